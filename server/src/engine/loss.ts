/**
 * The classification loss as PyTorch's `cross_entropy` defines it, with label smoothing and class
 * weights, reduced to one coefficient matrix so that every engine computes it the same way:
 *
 *   loss = −Σᵢ Σ_c T[i, c] · log softmax(logits)[i, c]
 *   T[i, c] = w_c · ((1 − ε)·[c = yᵢ] + ε / C) / Σᵢ w_{yᵢ}
 *
 * With ε = 0 and no weights this is the mean negative log-likelihood. PyTorch divides the
 * weighted sum by the total weight of the batch's targets (not by the batch size), smoothing
 * term included; so does this.
 */

/** `T`, row-major `labels.length × classes`. */
export function lossTargets(labels: Int32Array, classes: number, smoothing: number, weights?: readonly number[]): Float32Array {
  if (weights && weights.length !== classes) throw new Error(`There are ${weights.length} class weights for ${classes} classes.`);
  const weight = (c: number): number => weights?.[c] ?? 1;
  let total = 0;
  for (const label of labels) {
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new Error(`Label ${label} is outside the model's ${classes} classes (0 to ${classes - 1}).`);
    total += weight(label);
  }
  const targets = new Float32Array(labels.length * classes);
  // A batch whose targets all weigh nothing teaches nothing; PyTorch would give NaN, which would spoil the weights.
  if (total === 0) return targets;
  labels.forEach((label, i) => {
    for (let c = 0; c < classes; c++) targets[i * classes + c] = (weight(c) * ((c === label ? 1 - smoothing : 0) + smoothing / classes)) / total;
  });
  return targets;
}
