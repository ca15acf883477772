/**
 * The one seeded pseudo-random generator of the server (sfc32, seeded through splitmix32).
 * Dataset splits, shuffles, augmentation and initial weights all draw from it, so that a run can
 * be repeated exactly from its seed on any backend, engine or machine: nothing here depends on
 * Math.random or on the platform.
 */

/** Mixes a 32-bit value so that nearby seeds give unrelated streams (the splitmix32 finaliser). */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Derives one seed from a seed and any number of integers, such as (seed, epoch, batch), so that
 * each epoch and batch has its own stream and skipping ahead (resuming a run) needs no replay.
 */
export function deriveSeed(seed: number, ...parts: readonly number[]): number {
  let h = mix32(seed >>> 0);
  for (const part of parts) h = mix32((h ^ Math.imul(part >>> 0, 0x27d4eb2d)) >>> 0);
  return h;
}

/** A seed for one named stream of a run: FNV-1a over the name, mixed with the run's seed. */
export function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return mix32((h ^ mix32(seed >>> 0)) >>> 0);
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The second value of the last Box–Muller pair, handed out by the next `normal()`. */
  private spare: number | undefined;

  constructor(seed: number) {
    this.a = mix32(seed >>> 0);
    this.b = mix32(this.a ^ 0x6a09e667);
    this.c = mix32(this.b ^ 0xbb67ae85);
    this.d = 1;
    // The first outputs of sfc32 still resemble the seed; discarding a few is the usual remedy.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An integer in [0, n), without modulo bias worth measuring for n far below 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T extends { length: number; [index: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = items[i];
      items[i] = items[j];
      items[j] = swap;
    }
    return items;
  }

  /**
   * Fills `values` with `low + (high − low)·u`, u uniform in [0, 1): the same numbers as calling
   * `next()` for each, with the state kept in locals because models can have 100M weights.
   */
  fillUniform(values: Float32Array, low: number, high: number): void {
    let { a, b, c, d } = this;
    const scale = (high - low) / 4294967296;
    for (let i = 0; i < values.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      values[i] = low + (t >>> 0) * scale;
    }
    Object.assign(this, { a, b, c, d });
  }

  /** Standard normal, by the Box–Muller transform (two values per pair of uniforms). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}
