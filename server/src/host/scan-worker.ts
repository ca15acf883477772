/**
 * The worker thread behind scanInWorker (datasets.ts): it loads one dataset section through the
 * data layer (listing, decoding through the cache, with the data layer's decode pool), runs every
 * check, and posts the findings (their messages naming paths relative to the model file's folder)
 * and a per-class summary back. It is bundled as its own entry,
 * dist/scan-worker.js, next to the server that starts it.
 */
import { checkDataset, loadDataset, SPLITS, withReadablePaths, type LoadProgress } from '../data';
import type { ClassSummary, DatasetScanResult, ScanRequest, SplitSummary } from './datasets';
import { serveJob } from './worker-job';

async function run(request: ScanRequest, onProgress: (progress: LoadProgress) => void): Promise<DatasetScanResult> {
  const loaded = await loadDataset(request.spec, { baseDir: request.baseDir, cacheDir: request.cacheDir, onProgress });
  const report = checkDataset(loaded, request.spec);
  const splits: SplitSummary[] = [];
  for (const split of SPLITS) {
    const data = loaded.splits[split];
    const view = loaded.scan.splits[split];
    if (!data || !view) continue;
    const counts = new Array<number>(loaded.classes.length).fill(0);
    const firstFiles = new Array<string | undefined>(loaded.classes.length);
    data.labels.forEach((label) => counts[label]!++);
    // The first listed file, usable or not, so that a class whose every image is damaged still
    // opens its gallery. CIFAR and IDX images are records (`file#n`), not files an editor can open.
    if (view.kind === 'imagefolder') view.labels.forEach((label, i) => label >= 0 && firstFiles[label] === undefined && (firstFiles[label] = view.ids[i]));
    const classes: ClassSummary[] = loaded.classes.map((name, label) => ({ name, count: counts[label]!, ...(firstFiles[label] ? { firstFile: firstFiles[label] } : {}) }));
    splits.push({ split, path: view.path, count: data.count, classes, ...(view.carvedFrom ? { carvedFrom: view.carvedFrom } : {}) });
  }
  const findings = withReadablePaths(report.findings, request.baseDir, loaded.scan.sources.map((s) => s.source.path));
  return { name: request.name, classes: loaded.classes, splits, findings };
}

serveJob(run);
