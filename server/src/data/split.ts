/**
 * Seeded, stratified train/val/test splits of one labelled collection. Each class is split
 * separately by the shares asked for, so a rare class still appears in every split. Members are
 * ordered by a seeded hash of their id (file path or record) rather than shuffled by position,
 * so adding an image to a class moves at most a few others between splits: a run on yesterday's
 * folder and one on today's do not trade their validation images for training images.
 */
import { deriveSeed } from '../random';
import type { SplitRatios } from './types';

/** FNV-1a over UTF-16 code units, mixed with the seed. */
function idHash(id: string, seed: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return deriveSeed(seed, h >>> 0);
}

export interface SplitMembers {
  /** Positions in the input, ascending. */
  readonly train: Int32Array;
  readonly val: Int32Array;
  readonly test: Int32Array;
}

/**
 * Splits positions 0…n−1 by class. Per class of n images, round(n × val) go to val and
 * round(n × test) to test, but never all of them: at least one image of a class stays in train.
 */
export function stratifiedSplit(labels: ArrayLike<number>, ids: readonly string[], ratios: SplitRatios): SplitMembers {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    let members = byClass.get(label);
    if (!members) byClass.set(label, (members = []));
    members.push(i);
  }
  const train: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  for (const members of byClass.values()) {
    const keyed = members.map((i) => ({ i, h: idHash(ids[i]!, ratios.seed) }));
    keyed.sort((a, b) => a.h - b.h || (ids[a.i]! < ids[b.i]! ? -1 : 1));
    const n = keyed.length;
    let nVal = Math.round(n * ratios.val);
    let nTest = Math.round(n * ratios.test);
    while (nVal + nTest >= n && nVal + nTest > 0) {
      if (nTest >= nVal && nTest > 0) nTest--;
      else nVal--;
    }
    keyed.forEach((k, rank) => (rank < nVal ? val : rank < nVal + nTest ? test : train).push(k.i));
  }
  const sorted = (list: number[]): Int32Array => Int32Array.from(list).sort();
  return { train: sorted(train), val: sorted(val), test: sorted(test) };
}
