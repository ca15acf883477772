/**
 * Turns a train section's resolved settings into what an engine's training step needs, the
 * same for every engine: optimizer settings with PyTorch's defaults, and class weights.
 */
import type { TrainConfig } from '../language/semantics/settings';
import type { OptimizerSettings, TrainingSetup } from './engine';

const numberOf = (settings: TrainConfig['optimizer'], name: string, fallback: number): number => {
  const value = settings[name];
  return typeof value === 'number' ? value : fallback;
};

export function optimizerSettings(settings: TrainConfig['optimizer']): OptimizerSettings {
  const weightDecay = numberOf(settings, 'weight_decay', settings.name === 'adamw' ? 0.01 : 0);
  switch (settings.name) {
    case 'sgd':
    case 'momentum':
      return { name: settings.name, momentum: numberOf(settings, 'momentum', settings.name === 'momentum' ? 0.9 : 0), nesterov: settings['nesterov'] === true, weightDecay };
    default: {
      const betas = settings['betas'];
      const [beta1, beta2] = Array.isArray(betas) ? betas : [0.9, 0.999];
      return { name: settings.name === 'adamw' ? 'adamw' : 'adam', beta1: beta1 ?? 0.9, beta2: beta2 ?? 0.999, eps: numberOf(settings, 'eps', 1e-8), weightDecay };
    }
  }
}

/**
 * `class_weights balanced` as scikit-learn and most tutorials define it: images / (classes ×
 * images of the class), so every class weighs the same in total. A class without images gets
 * weight 0, since it can never be a target.
 */
export function balancedClassWeights(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((count) => (count > 0 ? total / (counts.length * count) : 0));
}

/**
 * Everything a training step needs from the train section. `classCounts` (images per class in
 * the training split) is needed for `class_weights balanced` only.
 */
export function trainingSetup(train: TrainConfig, classCounts?: readonly number[]): TrainingSetup {
  let classWeights: readonly number[] | undefined;
  if (train.classWeights === 'balanced') {
    if (!classCounts) throw new Error('class_weights balanced needs the number of training images per class.');
    classWeights = balancedClassWeights(classCounts);
  } else if (train.classWeights) {
    classWeights = train.classWeights;
  }
  return {
    optimizer: optimizerSettings(train.optimizer),
    labelSmoothing: train.labelSmoothing,
    ...(classWeights ? { classWeights } : {}),
    accumulate: train.accumulate,
  };
}
