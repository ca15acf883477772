/**
 * Exact and near duplicates across a loaded dataset. Exact copies share the hash of their file's
 * bytes (or of their pixels, for CIFAR and IDX records). Near copies (re-encoded, resized, lightly
 * edited) have difference hashes within a few bits of each other; to find those pairs among
 * 60,000 images without comparing every pair, each 64-bit hash is cut into bands and only images
 * that agree on a whole band are compared (if two hashes differ in at most d bits, at least one of
 * d + 1 bands is identical). A candidate pair is then confirmed on 16×16 grey thumbnails, so that
 * images that merely share a layout (two different handwritten ones) are not reported.
 */
import type { LoadedDataset, TensorSplit } from './dataset';
import { imagePixels } from './decode-batch';
import { greyThumbnail, hamming } from './fingerprint';
import { SPLITS, type Split } from './types';

export interface DuplicateMember {
  readonly split: Split;
  /** Position in the split. */
  readonly index: number;
  readonly id: string;
  readonly label: number;
}

export interface DuplicateGroup {
  readonly kind: 'exact' | 'near';
  readonly members: readonly DuplicateMember[];
}

/** The side of the grey thumbnails that confirm a near copy. */
const THUMBNAIL = 16;

export interface DuplicateOptions {
  /** Largest difference-hash distance, in bits, for a near duplicate (default 4). */
  readonly maxDistance?: number;
  /**
   * Largest difference of the 16×16 grey thumbnails, relative to how much each varies about its
   * own mean (default 0.25). A relative measure, because two different sparse images (digits on
   * black) differ little in absolute terms.
   */
  readonly maxThumbnailDifference?: number;
  /** Largest number of images compared with each other inside one bucket, so a folder of blank images stays fast (default 64). */
  readonly bucketLimit?: number;
}

interface Item {
  readonly member: DuplicateMember;
  readonly split: TensorSplit;
  readonly slot: number;
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]!]!;
      i = this.parent[i]!;
    }
    return i;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** Groups of two or more images that are the same picture, exact groups first. */
export function findDuplicates(dataset: LoadedDataset, options: DuplicateOptions = {}): DuplicateGroup[] {
  const maxDistance = options.maxDistance ?? 4;
  const maxDifference = options.maxThumbnailDifference ?? 0.25;
  const bucketLimit = options.bucketLimit ?? 64;
  const items: Item[] = [];
  for (const name of SPLITS) {
    const split = dataset.splits[name];
    if (!split) continue;
    for (let i = 0; i < split.count; i++) {
      const slot = split.index[i]!;
      items.push({ member: { split: name, index: i, id: split.ids[i]!, label: split.labels[i]! }, split, slot });
    }
  }

  // Exact: equal byte hashes.
  const exact = new UnionFind(items.length);
  const byBytes = new Map<string, number>();
  items.forEach((item, i) => {
    const h = item.split.block.bytesHashes;
    const key = `${h[item.slot * 2]}:${h[item.slot * 2 + 1]}`;
    const first = byBytes.get(key);
    if (first === undefined) byBytes.set(key, i);
    else exact.union(first, i);
  });
  const representatives = items.map((_, i) => i).filter((i) => exact.find(i) === i);

  // Near: band buckets over the representatives' difference hashes, confirmed on thumbnails.
  const near = new UnionFind(items.length);
  const thumbnails = new Map<number, Uint8Array>();
  const thumbnail = (i: number): Uint8Array => {
    let t = thumbnails.get(i);
    if (!t) {
      const { split, slot } = items[i]!;
      const size = split.shape[0] * split.shape[1] * split.shape[2];
      t = greyThumbnail(imagePixels(split.block.pixels, size, slot), split.shape, THUMBNAIL, THUMBNAIL);
      thumbnails.set(i, t);
    }
    return t;
  };
  const alike = (a: number, b: number): boolean => {
    const ta = thumbnail(a);
    const tb = thumbnail(b);
    let meanA = 0;
    let meanB = 0;
    for (let k = 0; k < ta.length; k++) {
      meanA += ta[k]!;
      meanB += tb[k]!;
    }
    meanA /= ta.length;
    meanB /= tb.length;
    let difference = 0;
    let spread = 0;
    for (let k = 0; k < ta.length; k++) {
      difference += Math.abs(ta[k]! - tb[k]!);
      spread += Math.abs(ta[k]! - meanA) + Math.abs(tb[k]! - meanB);
    }
    // Flat images (blank, one colour) have no spread: they are alike when their levels are.
    if (spread < ta.length) return difference <= 2 * ta.length;
    return difference / (spread / 2) <= maxDifference;
  };
  const dh = (i: number): [number, number] => {
    const { split, slot } = items[i]!;
    return [split.block.dHashes[slot * 2]!, split.block.dHashes[slot * 2 + 1]!];
  };
  const bands = maxDistance + 1;
  const bits = Math.ceil(64 / bands);
  const band = (hi: number, lo: number, b: number): number => {
    // Bit k of the 64-bit hash: hi holds bits 0–31, lo bits 32–63 (most significant first).
    let value = 0;
    for (let k = b * bits; k < Math.min(64, (b + 1) * bits); k++) {
      const bit = k < 32 ? (hi >>> (31 - k)) & 1 : (lo >>> (63 - k)) & 1;
      value = value * 2 + bit;
    }
    return value;
  };
  // Images decoded smaller than the thumbnail are checked for exact copies only: at 8×8, two
  // people's handwritten ones are as alike as a re-encoded copy, so a near match means nothing.
  const comparable = representatives.filter((i) => items[i]!.split.shape[1] >= THUMBNAIL && items[i]!.split.shape[2] >= THUMBNAIL);
  const compared = new Set<string>();
  for (let b = 0; b < bands; b++) {
    const buckets = new Map<number, number[]>();
    for (const i of comparable) {
      const [hi, lo] = dh(i);
      const key = band(hi, lo, b);
      const bucket = buckets.get(key);
      if (!bucket) buckets.set(key, [i]);
      else if (bucket.length < bucketLimit) bucket.push(i);
    }
    for (const bucket of buckets.values()) {
      for (let x = 0; x < bucket.length; x++) {
        for (let y = x + 1; y < bucket.length; y++) {
          const a = bucket[x]!;
          const c = bucket[y]!;
          if (near.find(a) === near.find(c)) continue;
          const [ah, al] = dh(a);
          const [ch, cl] = dh(c);
          if (hamming(ah, al, ch, cl) > maxDistance) continue;
          const key = `${a}:${c}`;
          if (compared.has(key)) continue;
          compared.add(key);
          if (alike(a, c)) near.union(a, c);
        }
      }
    }
  }

  const groups: DuplicateGroup[] = [];
  const collect = (find: (i: number) => number, kind: DuplicateGroup['kind'], expand: boolean): void => {
    const byRoot = new Map<number, number[]>();
    const candidates = expand ? representatives : items.map((_, i) => i);
    for (const i of candidates) {
      const root = find(i);
      const list = byRoot.get(root) ?? [];
      list.push(i);
      byRoot.set(root, list);
    }
    const exactMembers = new Map<number, number[]>();
    if (expand) items.forEach((_, i) => {
      const root = exact.find(i);
      const list = exactMembers.get(root) ?? [];
      list.push(i);
      exactMembers.set(root, list);
    });
    for (const list of byRoot.values()) {
      if (list.length < 2) continue;
      const members = expand ? list.flatMap((r) => exactMembers.get(r) ?? [r]) : list;
      groups.push({ kind, members: members.map((i) => items[i]!.member) });
    }
  };
  collect((i) => exact.find(i), 'exact', false);
  collect((i) => near.find(i), 'near', true);
  return groups;
}
