/**
 * A small seeded generator (sfc32, seeded through splitmix32) for initial weights. Each weight
 * tensor draws from its own stream, derived from the run's seed and the tensor's key, so its
 * values depend on nothing else: not on the order layers are built in, the backend, or the engine.
 */

function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed for one named stream of a run: FNV-1a over the name, mixed with the run's seed. */
export function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return mix32((h ^ mix32(seed >>> 0)) >>> 0);
}

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  private spare: number | undefined;

  constructor(seed: number) {
    this.a = mix32(seed >>> 0);
    this.b = mix32(this.a ^ 0x6a09e667);
    this.c = mix32(this.b ^ 0xbb67ae85);
    // sfc32's first outputs still resemble its seed; the usual remedy is to discard a few.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
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
