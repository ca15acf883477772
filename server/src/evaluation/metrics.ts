/**
 * Classification metrics as pure functions of labels and class probabilities: accuracy, top-k
 * accuracy, per-class precision/recall/F1 with support, macro and weighted averages and the
 * confusion matrix. Definitions follow scikit-learn (`classification_report`,
 * `confusion_matrix`, `top_k_accuracy_score`) with `zero_division=0`: a class nobody predicted
 * has precision 0, a class with no images has recall 0, and a 0/0 F1 is 0. Such a class still
 * counts in the macro average (as scikit-learn's does when `labels` lists every class) and
 * weighs nothing in the weighted one.
 */

/** One class's row of the report. */
export interface ClassMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Images whose true class this is. */
  readonly support: number;
  /** Images predicted as this class. */
  readonly predicted: number;
}

export interface Averages {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface ClassificationMetrics {
  readonly count: number;
  readonly accuracy: number;
  /** Accuracy with the label among the k most probable classes, for each k asked for that is below the class count. */
  readonly topK: readonly { readonly k: number; readonly accuracy: number }[];
  /** Mean cross-entropy, −ln p(true class), with p clamped at 1e-7 so a confident mistake stays finite. */
  readonly loss: number;
  readonly perClass: readonly ClassMetrics[];
  readonly macro: Averages;
  readonly weighted: Averages;
  /** `counts[t][p]`: images of true class t predicted as p. */
  readonly confusion: readonly (readonly number[])[];
  /** Each row of `counts` divided by its sum (scikit-learn's `normalize='true'`); a row with no images is zeros. */
  readonly confusionNormalized: readonly (readonly number[])[];
}

/** The smallest probability the loss takes, as an epsilon-clamped log would. */
const MIN_PROBABILITY = 1e-7;

/** 0 where the denominator is 0 (scikit-learn's `zero_division=0`). */
const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** The most probable class of row `i`; the first one on a tie, as argmax is everywhere. */
export function argmaxRow(probabilities: Float32Array, classes: number, i: number): number {
  let best = 0;
  let bestValue = probabilities[i * classes]!;
  for (let c = 1; c < classes; c++) {
    const value = probabilities[i * classes + c]!;
    if (value > bestValue) {
      best = c;
      bestValue = value;
    }
  }
  return best;
}

/**
 * The label's rank in row `i`: how many classes come before it when sorted by probability,
 * ties broken by class index so that rank 0 is exactly the argmax. Top-k is right when rank < k.
 */
export function labelRank(probabilities: Float32Array, classes: number, i: number, label: number): number {
  const own = probabilities[i * classes + label]!;
  let rank = 0;
  for (let c = 0; c < classes; c++) {
    const value = probabilities[i * classes + c]!;
    if (value > own || (value === own && c < label)) rank++;
  }
  return rank;
}

/** The cross-entropy of one image, −ln p(label). */
export function imageLoss(probabilities: Float32Array, classes: number, i: number, label: number): number {
  return -Math.log(Math.max(MIN_PROBABILITY, probabilities[i * classes + label]!));
}

/** `counts[t][p]` from true and predicted labels. */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]![predicted[i]!]! += 1;
  return counts;
}

/** Precision, recall, F1 and support of each class, from a confusion matrix. */
export function perClassMetrics(confusion: readonly (readonly number[])[]): ClassMetrics[] {
  const classes = confusion.length;
  return confusion.map((row, c) => {
    const truePositives = row[c]!;
    const support = row.reduce((sum, n) => sum + n, 0);
    let predicted = 0;
    for (let t = 0; t < classes; t++) predicted += confusion[t]![c]!;
    const precision = ratio(truePositives, predicted);
    const recall = ratio(truePositives, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    return { precision, recall, f1, support, predicted };
  });
}

/** The unweighted mean over classes (macro) and the mean weighted by support (weighted). */
export function averages(perClass: readonly ClassMetrics[]): { macro: Averages; weighted: Averages } {
  const total = perClass.reduce((sum, m) => sum + m.support, 0);
  const mean = (pick: (m: ClassMetrics) => number, weight: (m: ClassMetrics) => number, divisor: number): number =>
    ratio(
      perClass.reduce((sum, m) => sum + pick(m) * weight(m), 0),
      divisor,
    );
  const average = (weight: (m: ClassMetrics) => number, divisor: number): Averages => ({
    precision: mean((m) => m.precision, weight, divisor),
    recall: mean((m) => m.recall, weight, divisor),
    f1: mean((m) => m.f1, weight, divisor),
  });
  return { macro: average(() => 1, perClass.length), weighted: average((m) => m.support, total) };
}

/** Every row divided by its sum. */
export function normalizeRows(confusion: readonly (readonly number[])[]): number[][] {
  return confusion.map((row) => {
    const sum = row.reduce((s, n) => s + n, 0);
    return row.map((n) => ratio(n, sum));
  });
}

/**
 * All metrics of a set of predictions. `probabilities` is `N×classes` (rows of class
 * probabilities, as `EngineModel.predict` returns them) and `labels` the N true classes.
 */
export function classificationMetrics(
  labels: Int32Array,
  probabilities: Float32Array,
  classes: number,
  topK: readonly number[] = [3, 5],
): ClassificationMetrics {
  const count = labels.length;
  if (probabilities.length !== count * classes) {
    throw new Error(`Expected ${count}×${classes} probabilities, got ${probabilities.length} values.`);
  }
  const ks = topK.filter((k) => k > 1 && k < classes);
  const predicted = new Int32Array(count);
  const topHits = new Array<number>(ks.length).fill(0);
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < count; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < classes)) throw new Error(`Image ${i} has label ${label}, outside the ${classes} classes.`);
    predicted[i] = argmaxRow(probabilities, classes, i);
    if (predicted[i] === label) correct++;
    const rank = labelRank(probabilities, classes, i, label);
    ks.forEach((k, j) => {
      if (rank < k) topHits[j]! += 1;
    });
    lossSum += imageLoss(probabilities, classes, i, label);
  }
  const confusion = confusionMatrix(labels, predicted, classes);
  const perClass = perClassMetrics(confusion);
  return {
    count,
    accuracy: ratio(correct, count),
    topK: ks.map((k, j) => ({ k, accuracy: ratio(topHits[j]!, count) })),
    loss: ratio(lossSum, count),
    perClass,
    ...averages(perClass),
    confusion,
    confusionNormalized: normalizeRows(confusion),
  };
}
