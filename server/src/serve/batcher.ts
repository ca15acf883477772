/**
 * Micro-batching: images from concurrent requests that arrive while the model is busy (or within
 * `delayMs` of the first) go through one `predict` call, since one batch of N costs far less than
 * N batches of one. With batching off every image is predicted alone, one after another.
 */
export type PredictFn = (images: Uint8Array, count: number) => Promise<Float32Array>;

interface Pending {
  readonly pixels: Uint8Array;
  readonly resolve: (probabilities: Float32Array) => void;
  readonly reject: (error: unknown) => void;
}

export interface BatcherOptions {
  /** Most images in one predict call; 1 turns batching off. */
  readonly maxBatch: number;
  /** How long the first image of a batch waits for company while the model is idle. */
  readonly delayMs: number;
}

export class MicroBatcher {
  private readonly queue: Pending[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly predict: PredictFn,
    private readonly imageSize: number,
    private readonly classes: number,
    private readonly options: BatcherOptions,
  ) {}

  /** The class probabilities of one C×H×W image. */
  run(pixels: Uint8Array): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ pixels, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    if (this.queue.length >= this.options.maxBatch || this.options.delayMs <= 0) {
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.delayMs);
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const taken = this.queue.splice(0, this.options.maxBatch);
    const images = new Uint8Array(taken.length * this.imageSize);
    taken.forEach((pending, i) => images.set(pending.pixels, i * this.imageSize));
    try {
      const probabilities = await this.predict(images, taken.length);
      taken.forEach((pending, i) => pending.resolve(probabilities.slice(i * this.classes, (i + 1) * this.classes)));
    } catch (error) {
      for (const pending of taken) pending.reject(error);
    } finally {
      this.running = false;
      // Whatever queued while the model was busy goes at once: it has waited long enough.
      if (this.queue.length > 0) void this.flush();
    }
  }
}
