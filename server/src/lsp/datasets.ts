/** Converts the latest dataset scans of a document into the `ocular/datasetTree` answer. */
import { pathToFileURL } from 'node:url';
import type { DatasetTreeDataset, DatasetTreeWarning } from '../../../protocol/protocol';
import type { Finding } from '../data';
import type { DatasetScanResult } from '../host/datasets';

const warning = (finding: Finding): DatasetTreeWarning => ({ severity: finding.severity, message: finding.message });

/**
 * Datasets → splits → classes with counts and shares. Each finding is listed on the most specific
 * node it is about: a class of a split, else the split, else the dataset.
 */
export function toDatasetTree(results: readonly DatasetScanResult[]): DatasetTreeDataset[] {
  return results.map((result) => {
    const total = result.splits.reduce((sum, s) => sum + s.count, 0);
    const placed = new Set<Finding>();
    const splits = result.splits.map((split) => {
      const ofSplit = result.findings.filter((f) => f.split === split.split);
      const classes = split.classes.map((c) => {
        const mine = ofSplit.filter((f) => f.class === c.name);
        mine.forEach((f) => placed.add(f));
        return {
          name: c.name,
          count: c.count,
          share: split.count > 0 ? c.count / split.count : 0,
          ...(c.firstFile ? { firstImage: pathToFileURL(c.firstFile).href } : {}),
          warnings: mine.map(warning),
        };
      });
      const own = ofSplit.filter((f) => !placed.has(f));
      own.forEach((f) => placed.add(f));
      return {
        split: split.split,
        path: split.path,
        count: split.count,
        share: total > 0 ? split.count / total : 0,
        ...(split.carvedFrom ? { carvedFrom: split.carvedFrom } : {}),
        classes,
        warnings: own.map(warning),
      };
    });
    return { name: result.name, splits, warnings: result.findings.filter((f) => !placed.has(f)).map(warning) };
  });
}
