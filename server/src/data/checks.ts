/**
 * Checks of a dataset as a whole: classes without images, classes missing from a split, class
 * imbalance, a declared class count that the folders contradict, images smaller than the model
 * input, and duplicates within and across splits. Each finding names the class, split or files
 * and says what to do; the dataset view and the language server show them as they are.
 */
import * as path from 'node:path';
import type { DatasetScan, LoadedDataset } from './dataset';
import { findDuplicates, type DuplicateGroup, type DuplicateOptions } from './duplicates';
import type { Finding, FindingCode } from './findings';
import { count, plural, shown } from './text';
import { SPLITS, type DatasetSpec, type Split } from './types';

export interface CheckOptions {
  /** Largest-to-smallest class ratio in the training split above which imbalance is reported (default 10). */
  readonly imbalanceRatio?: number;
  /** Findings of one code listed one by one before the rest are summed up in one (default 20). */
  readonly perCodeLimit?: number;
  readonly duplicates?: DuplicateOptions;
}

const SPLIT_WORD: Record<Split, string> = { train: 'training', val: 'validation', test: 'test' };

function classCounts(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) if (l >= 0 && l < classes) counts[l]!++;
  return counts;
}

/**
 * Class checks, from a scan (listed images) or a load (images that decoded, so a class whose
 * every image is broken counts as empty).
 */
export function checkClasses(data: DatasetScan | LoadedDataset, spec: DatasetSpec, options: CheckOptions = {}): Finding[] {
  const scan = 'scan' in data ? data.scan : data;
  const classes = data.classes;
  const findings: Finding[] = [];
  if (typeof spec.classes === 'number' && scan.splits.train && spec.classes !== classes.length) {
    findings.push({
      code: 'class-count',
      severity: 'error',
      split: 'train',
      file: scan.splits.train.path,
      message: `The dataset declares ${plural(spec.classes, 'class', 'classes')} but its training images have ${plural(classes.length, 'class', 'classes')}${classes.length <= 12 ? ` (${classes.join(', ')})` : ''}. Change 'classes ${spec.classes}' to 'classes ${classes.length}'.`,
    });
  }
  for (const split of SPLITS) {
    const view = scan.splits[split];
    if (!view) continue;
    const labels = 'scan' in data ? data.splits[split]?.labels ?? new Int32Array(0) : view.labels;
    const counts = classCounts(labels, classes.length);
    const folders = new Set(view.carvedFrom ? [] : view.folders ?? []);
    const trainLabels = split === 'train' ? undefined : 'scan' in data ? data.splits.train?.labels : scan.splits.train?.labels;
    const trained = trainLabels ? classCounts(trainLabels, classes.length) : undefined;
    counts.forEach((n, label) => {
      // A class without training images is reported for train; saying so again for val is noise.
      if (n > 0 || trained?.[label] === 0) return;
      const name = classes[label]!;
      const folder = path.join(view.path, name);
      if (folders.has(name)) {
        findings.push({
          code: 'empty-class',
          severity: 'warning',
          split,
          class: name,
          file: folder,
          message: `The class folder '${shown(folder)}' has no ${'scan' in data ? 'usable ' : ''}images, so the model ${split === 'train' ? 'never learns' : 'is never tested on'} class '${shown(name)}'. Add images to it, or remove it.`,
        });
      } else {
        const where = view.carvedFrom ? `(the ${split} share of the training images holds none; the class has too few images for the split)` : `(there is no folder '${shown(folder)}')`;
        findings.push({
          code: 'missing-class',
          severity: split === 'train' ? 'error' : 'warning',
          split,
          class: name,
          file: view.carvedFrom ? view.path : folder,
          message:
            split === 'train'
              ? `Class '${shown(name)}' has no training images ${where}; the model cannot learn it. Add its images, or remove it from classes.`
              : `The ${SPLIT_WORD[split]} images have no class '${shown(name)}' ${where}, so accuracy on it cannot be measured. Add some of its images.`,
        });
      }
    });
    if (split === 'train') {
      const present = counts.map((n, label) => ({ n, label })).filter((c) => c.n > 0);
      if (present.length >= 2) {
        const most = present.reduce((a, b) => (b.n > a.n ? b : a));
        const least = present.reduce((a, b) => (b.n < a.n ? b : a));
        const ratio = most.n / least.n;
        if (ratio > (options.imbalanceRatio ?? 10)) {
          findings.push({
            code: 'class-imbalance',
            severity: 'warning',
            split,
            class: classes[least.label]!,
            message: `Class '${shown(classes[most.label]!)}' has ${plural(most.n, 'training image')} but '${shown(classes[least.label]!)}' only ${count(least.n)} (${Math.round(ratio)}×); the model will favour the larger classes. Add images of the small ones, or write 'class_weights balanced' in the train section.`,
          });
        }
      }
    }
  }
  return findings;
}

/** Images smaller than the model input, one finding per split naming the smallest. */
export function checkSizes(dataset: LoadedDataset): Finding[] {
  const [, height, width] = dataset.shape;
  const findings: Finding[] = [];
  for (const split of SPLITS) {
    const s = dataset.splits[split];
    if (!s || dataset.scan.sources.find((d) => d.source.path === dataset.scan.splits[split]?.path)?.tensors) continue;
    let small = 0;
    let smallest = -1;
    for (let i = 0; i < s.count; i++) {
      const slot = s.index[i]!;
      const w = s.block.widths[slot]!;
      const h = s.block.heights[slot]!;
      if (w >= width && h >= height) continue;
      small++;
      if (smallest < 0 || w * h < s.block.widths[s.index[smallest]!]! * s.block.heights[s.index[smallest]!]!) smallest = i;
    }
    if (small === 0) continue;
    const slot = s.index[smallest]!;
    findings.push({
      code: 'small-images',
      severity: 'info',
      split,
      file: s.ids[smallest]!,
      count: small,
      message: `${count(small)} of ${plural(s.count, `${SPLIT_WORD[split]} image`)} are smaller than the model input ${width}×${height} (the smallest, '${shown(s.ids[smallest]!)}', is ${s.block.widths[slot]}×${s.block.heights[slot]}); they are enlarged, which blurs them. Use a smaller 'image' size if most images are this small.`,
    });
  }
  return findings;
}

function describe(group: DuplicateGroup, classes: readonly string[]): Finding {
  const splits = new Set(group.members.map((m) => m.split));
  const labels = new Set(group.members.map((m) => m.label));
  const [first, ...rest] = [...group.members].sort((a, b) => SPLITS.indexOf(b.split) - SPLITS.indexOf(a.split));
  const same = group.kind === 'exact' ? 'the same file as' : 'a near copy of';
  const others = rest.map((m) => `'${shown(m.id)}'`).join(', ');
  const base = { file: first!.id, related: rest.map((m) => m.id), split: first!.split, class: classes[first!.label] ?? String(first!.label) };
  if (splits.size > 1) {
    return {
      ...base,
      code: 'duplicate-across-splits',
      severity: 'warning',
      message: `'${shown(first!.id)}' (${first!.split}) is ${same} ${others} (${[...splits].filter((s) => s !== first!.split).join(', ')}): the model is evaluated on an image it trained on, which inflates the score. Remove one copy.`,
    };
  }
  if (labels.size > 1) {
    return {
      ...base,
      code: 'duplicate-across-classes',
      severity: 'warning',
      message: `'${shown(first!.id)}' (class '${shown(classes[first!.label] ?? '')}') is ${same} ${others} labelled ${[...labels].filter((l) => l !== first!.label).map((l) => `'${shown(classes[l] ?? String(l))}'`).join(', ')}: one of the labels is wrong. Keep the image in its right class only.`,
    };
  }
  return {
    ...base,
    code: 'duplicate-in-class',
    severity: 'info',
    message: `'${shown(first!.id)}' is ${same} ${others} in class '${shown(classes[first!.label] ?? '')}', so it counts ${group.members.length} times. Remove the extra copies.`,
  };
}

/** Keeps the first `limit` findings of each code and sums up the rest in one more. */
function capped(findings: readonly Finding[], limit: number): Finding[] {
  const byCode = new Map<FindingCode, Finding[]>();
  for (const f of findings) byCode.set(f.code, [...(byCode.get(f.code) ?? []), f]);
  const out: Finding[] = [];
  for (const [code, list] of byCode) {
    out.push(...list.slice(0, limit));
    if (list.length > limit) {
      const more = list.length - limit;
      out.push({ code, severity: list[limit]!.severity, count: more, message: `… and ${count(more)} more like these (${code}).` });
    }
  }
  return out;
}

export interface DatasetReport {
  readonly findings: readonly Finding[];
  readonly duplicates: readonly DuplicateGroup[];
}

/** Every check on a loaded dataset: the load's own findings, classes, sizes and duplicates. */
export function checkDataset(dataset: LoadedDataset, spec: DatasetSpec, options: CheckOptions = {}): DatasetReport {
  const duplicates = findDuplicates(dataset, options.duplicates);
  const findings = [...dataset.findings, ...checkClasses(dataset, spec, options), ...checkSizes(dataset), ...duplicates.map((g) => describe(g, dataset.classes))];
  return { findings: capped(findings, options.perCodeLimit ?? 20), duplicates };
}
