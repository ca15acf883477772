/**
 * Learning-rate schedules, as PyTorch's schedulers compute them, for any engine: a learning rate
 * per epoch from the train section's `schedule` and the optimizer's `lr`.
 *
 * Warm-up (`warmup=N`) rises linearly from a tenth of the learning rate over N epochs, then the
 * schedule starts on its own clock, as PyTorch's `SequentialLR(LinearLR, …)` does: `step every=7`
 * decays 7 epochs after the warm-up ends, and `cosine` spans the epochs that remain.
 */
import type { TrainConfig } from '../language/semantics/settings';

export type ScheduleSettings = TrainConfig['schedule'];

const setting = (settings: ScheduleSettings, name: string, fallback: number): number => {
  const value = settings[name];
  return typeof value === 'number' ? value : fallback;
};

/**
 * The learning rate of `epoch` (counted from 0) for the schedules that depend on the epoch
 * alone; `plateau` also depends on the metrics, so it gives the warm-up or the base rate here and
 * `LearningRateSchedule` applies its reductions.
 */
export function scheduledRate(settings: ScheduleSettings, baseRate: number, epochs: number, epoch: number): number {
  const warmup = setting(settings, 'warmup', 0);
  if (epoch < warmup) return baseRate * (0.1 + (0.9 * epoch) / warmup);
  const t = epoch - warmup;
  switch (settings.name) {
    case 'step':
      return baseRate * setting(settings, 'gamma', 0.1) ** Math.floor(t / setting(settings, 'every', 7));
    case 'multistep': {
      const milestones = settings['milestones'];
      const passed = Array.isArray(milestones) ? milestones.filter((m) => m <= t).length : 0;
      return baseRate * setting(settings, 'gamma', 0.1) ** passed;
    }
    case 'cosine': {
      const minRate = setting(settings, 'min_lr', 0);
      const span = Math.max(1, epochs - warmup);
      return minRate + ((baseRate - minRate) * (1 + Math.cos((Math.PI * Math.min(t, span)) / span))) / 2;
    }
    default:
      return baseRate;
  }
}

/** The validation metrics `plateau` watches, from the epoch just finished. */
export interface EpochMetrics {
  readonly val_loss: number;
  readonly val_acc: number;
}

/**
 * A run's learning rate over its epochs. Every schedule but `plateau` is the pure function
 * above; `plateau` keeps PyTorch's `ReduceLROnPlateau` state (best value, epochs without a
 * relative improvement of 1e-4, no cool-down) and is told each epoch's metrics.
 */
export class LearningRateSchedule {
  private scale = 1;
  private best: number | undefined;
  private badEpochs = 0;

  constructor(
    private readonly settings: ScheduleSettings,
    private readonly baseRate: number,
    private readonly epochs: number,
  ) {}

  static of(train: TrainConfig): LearningRateSchedule {
    const lr = train.optimizer['lr'];
    return new LearningRateSchedule(train.schedule, typeof lr === 'number' ? lr : 0.001, train.epochs);
  }

  rate(epoch: number): number {
    return scheduledRate(this.settings, this.baseRate, this.epochs, epoch) * this.scale;
  }

  /** Records the metrics of a finished epoch; only `plateau` after its warm-up takes notice. */
  observe(epoch: number, metrics: EpochMetrics): void {
    if (this.settings.name !== 'plateau' || epoch < setting(this.settings, 'warmup', 0)) return;
    const maximise = this.settings['monitor'] === 'val_acc';
    const value = maximise ? metrics.val_acc : metrics.val_loss;
    const threshold = 1e-4;
    const improved = this.best === undefined || (maximise ? value > this.best * (1 + threshold) : value < this.best * (1 - threshold));
    if (improved) {
      this.best = value;
      this.badEpochs = 0;
      return;
    }
    this.badEpochs++;
    if (this.badEpochs > setting(this.settings, 'patience', 3)) {
      this.scale *= setting(this.settings, 'factor', 0.1);
      this.badEpochs = 0;
    }
  }
}
