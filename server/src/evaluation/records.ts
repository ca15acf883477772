/**
 * One record per evaluated image, for the galleries of the confusion matrix: which file, its true
 * and predicted class, how sure the model was and the image's loss. A cell's gallery is the
 * records with that (true, predicted) pair, worst loss first.
 */
import { argmaxRow, imageLoss } from './metrics';

export interface ImageRecord {
  /** The image's file (absolute), or `<source>#<index>` for images inside an archive such as CIFAR. */
  readonly file: string;
  /** True class index. */
  readonly label: number;
  /** Predicted class index (the most probable). */
  readonly predicted: number;
  /** Probability of the predicted class. */
  readonly probability: number;
  /** Probability of the true class. */
  readonly labelProbability: number;
  /** Cross-entropy, −ln p(true class). */
  readonly loss: number;
}

export function imageRecords(labels: Int32Array, probabilities: Float32Array, classes: number, files: readonly string[]): ImageRecord[] {
  return Array.from(labels, (label, i) => {
    const predicted = argmaxRow(probabilities, classes, i);
    return {
      file: files[i] ?? `#${i}`,
      label,
      predicted,
      probability: probabilities[i * classes + predicted]!,
      labelProbability: probabilities[i * classes + label]!,
      loss: imageLoss(probabilities, classes, i, label),
    };
  });
}

/** The images of one confusion-matrix cell, highest loss first (ties by file name, so the order is stable). */
export function cellImages(records: readonly ImageRecord[], label: number, predicted: number): ImageRecord[] {
  return records
    .filter((r) => r.label === label && r.predicted === predicted)
    .sort((a, b) => b.loss - a.loss || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
