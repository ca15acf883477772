/**
 * Training feedback, one case per finding: a model file and an epoch history in, the complete
 * list of diagnostics out, each as `[line:col, severity, code, range, message]` where the range is
 * the exact source text the diagnostic covers and the message only has to occur in the real one.
 * A case may give the file after each quick fix of its first diagnostic, in order, and every
 * fixed file must still analyse without errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../server/src/language/analysis';
import { trainingFeedback, type EpochHistory, type FeedbackInput } from '../../server/src/training/feedback';
import { applyEdits, lineCol } from '../language/helpers';

type Expected = readonly [at: string, severity: string, code: string, range: string, message: string];

interface Case {
  readonly name: string;
  readonly source: string;
  readonly history: readonly (readonly [trainLoss: number | null, trainAcc: number, valLoss: number | null, valAcc: number, predicted?: readonly number[]])[];
  readonly error?: FeedbackInput['error'];
  readonly edited?: boolean;
  readonly diagnostics: readonly Expected[];
  /** The file after each quick fix of the first diagnostic, in the order they are offered. */
  readonly fixed?: readonly string[];
}

interface FileParts {
  readonly layers?: readonly string[];
  readonly dataset?: readonly string[];
  readonly train?: readonly string[];
}

/** A model file: model M (its layers), dataset d and a train section, each line indented by two spaces. */
function file({ layers = ['conv 8 kernel=3', 'relu', 'flatten', 'dense 32', 'relu', 'dense classes'], dataset = ['train "data/train"', 'val "data/val"', 'image 3x8x8', 'classes 3'], train = ['model M', 'data d', 'epochs 10', 'batch 32', 'optimizer adam lr=0.001'] }: FileParts): string {
  const indent = (lines: readonly string[]): string[] => lines.map((line) => `  ${line}`);
  return ['model M {', '  input 3x8x8', ...indent(layers), '}', '', 'dataset d {', ...indent(dataset), '}', '', 'train {', ...indent(train), '}', ''].join('\n');
}

/** The tutorial's case: 92% training accuracy against 82% validation, and widening. */
const OVERFIT: Case['history'] = [
  [1.0, 0.6, 1.0, 0.58],
  [0.5, 0.88, 0.7, 0.76],
  [0.3, 0.92, 0.75, 0.82],
];
const LEARNING: Case['history'] = [
  [1.0, 0.5, 1.0, 0.5, [10, 10, 10]],
  [0.7, 0.7, 0.72, 0.68, [9, 11, 10]],
  [0.5, 0.8, 0.55, 0.78, [10, 10, 10]],
];

const cases: readonly Case[] = [
  {
    name: 'a run that learns gives no feedback',
    source: file({}),
    history: LEARNING,
    diagnostics: [],
  },
  {
    name: 'overfitting: the accuracy gap for two epochs; fixes add dropout, augmentation and early stopping',
    source: file({}),
    history: OVERFIT,
    diagnostics: [['19:3', 'warning', 'overfitting', 'model M', 'Overfitting after epoch 3: training accuracy 92.0% against validation 82.0%']],
    fixed: [
      file({ layers: ['conv 8 kernel=3', 'relu', 'flatten', 'dense 32', 'relu', 'dropout 0.5', 'dense classes'] }),
      file({ dataset: ['train "data/train"', 'val "data/val"', 'image 3x8x8', 'classes 3', 'augment {', '  hflip', '  rotate 10', '}'] }),
      file({ train: ['model M', 'data d', 'epochs 10', 'batch 32', 'optimizer adam lr=0.001', 'early_stop monitor=val_loss patience=3'] }),
    ],
  },
  {
    name: 'overfitting with dropout, augmentation and early stopping already there: raise dropout, add the missing augmentation',
    source: file({
      layers: ['conv 8 kernel=3', 'relu', 'flatten', 'dropout 0.3', 'dense classes'],
      dataset: ['train "data/train"', 'val "data/val"', 'augment {', '  hflip', '}', 'normalize imagenet'],
      train: ['model M', 'data d', 'early_stop patience=2'],
    }),
    history: OVERFIT,
    diagnostics: [['20:3', 'warning', 'overfitting', 'model M', 'a gap above 10.0% for 2 epochs']],
    fixed: [
      file({ layers: ['conv 8 kernel=3', 'relu', 'flatten', 'dropout 0.5', 'dense classes'], dataset: ['train "data/train"', 'val "data/val"', 'augment {', '  hflip', '}', 'normalize imagenet'], train: ['model M', 'data d', 'early_stop patience=2'] }),
      file({ layers: ['conv 8 kernel=3', 'relu', 'flatten', 'dropout 0.3', 'dense classes'], dataset: ['train "data/train"', 'val "data/val"', 'augment {', '  hflip', '  rotate 10', '}', 'normalize imagenet'], train: ['model M', 'data d', 'early_stop patience=2'] }),
    ],
  },
  {
    name: 'a new augment block goes before normalize',
    source: file({ dataset: ['train "data/train"', 'val "data/val"', 'normalize imagenet'], layers: ['flatten', 'dropout 0.7', 'dense classes'] }),
    history: OVERFIT,
    diagnostics: [['15:3', 'warning', 'overfitting', 'model M', 'Overfitting']],
    fixed: [
      file({ dataset: ['train "data/train"', 'val "data/val"', 'augment {', '  hflip', '  rotate 10', '}', 'normalize imagenet'], layers: ['flatten', 'dropout 0.7', 'dense classes'] }),
      file({ dataset: ['train "data/train"', 'val "data/val"', 'normalize imagenet'], layers: ['flatten', 'dropout 0.7', 'dense classes'], train: ['model M', 'data d', 'epochs 10', 'batch 32', 'optimizer adam lr=0.001', 'early_stop monitor=val_loss patience=3'] }),
    ],
  },
  {
    name: 'a gap in one epoch only is not overfitting yet',
    source: file({}),
    history: [LEARNING[0]!, LEARNING[1]!, [0.3, 0.92, 0.6, 0.8, [10, 10, 10]]],
    diagnostics: [],
  },
  {
    name: 'overfitting: validation loss rising for two epochs while the training loss falls',
    source: file({}),
    history: [
      [1.0, 0.6, 0.9, 0.6],
      [0.8, 0.66, 0.95, 0.6],
      [0.6, 0.68, 1.1, 0.61],
    ],
    diagnostics: [['19:3', 'warning', 'overfitting', 'model M', 'the validation loss rose for 2 epochs (0.900 → 0.950 → 1.100) while the training loss fell']],
  },
  {
    name: 'a file edited since the run keeps the finding without fixes',
    source: file({}),
    history: OVERFIT,
    edited: true,
    diagnostics: [['19:3', 'warning', 'overfitting', 'model M', 'Overfitting']],
    fixed: [],
  },
  {
    name: 'loss not falling: on the learning rate',
    source: file({}),
    history: [
      [2.3, 0.1, 2.3, 0.1],
      [2.31, 0.1, 2.3, 0.1],
      [2.29, 0.11, 2.3, 0.1],
    ],
    diagnostics: [['23:21', 'warning', 'loss-not-falling', '0.001', 'The training loss has not fallen in 3 epochs (2.300 at the first, 2.290 now): the learning rate (0.001)']],
  },
  {
    name: 'NaN loss: an error on the learning rate with a fix that lowers it',
    source: file({ train: ['model M', 'data d', 'optimizer sgd lr=0.5'] }),
    history: [[1.2, 0.4, 1.1, 0.4], [null, 0, null, 0]],
    error: { kind: 'nan', message: 'loss is NaN at epoch 2, batch 3' },
    diagnostics: [['21:20', 'error', 'loss-not-finite', '0.5', 'The loss became NaN or infinite in epoch 2, so training stopped. The learning rate 0.5 is the usual cause: lower it to 0.05.']],
    fixed: [file({ train: ['model M', 'data d', 'optimizer sgd lr=0.05'] })],
  },
  {
    name: 'NaN loss with no optimizer line: the fix writes one',
    source: file({ train: ['model M', 'data d'] }),
    history: [],
    error: { kind: 'nan', message: 'loss is NaN at epoch 1, batch 1' },
    diagnostics: [['18:1', 'error', 'loss-not-finite', 'train', 'during training']],
    fixed: [file({ train: ['model M', 'data d', 'optimizer adam lr=0.0001'] })],
  },
  {
    name: 'out of memory: on the batch line, suggesting half',
    source: file({ train: ['model M', 'data d', 'batch 256'] }),
    history: [],
    error: { kind: 'oom', message: 'OOM when allocating tensor with shape [256,64,112,112]' },
    diagnostics: [['21:3', 'error', 'out-of-memory', 'batch 256', "Training ran out of memory with batch 256 and stopped; the run's checkpoints are kept. Try batch 128 (with 'accumulate 2' to keep the effective batch of 256)."]],
    fixed: [file({ train: ['model M', 'data d', 'batch 128'] })],
  },
  {
    name: 'classes never predicted: named, on the data line',
    source: file({ dataset: ['train "data/train"', 'val "data/val"', 'classes (cat, dog, fox)'] }),
    history: [
      [1.0, 0.5, 1.0, 0.5, [20, 10, 0]],
      [0.8, 0.6, 0.8, 0.6, [18, 12, 0]],
    ],
    diagnostics: [['19:3', 'warning', 'class-never-predicted', 'data d', 'After 2 epochs the model predicts class fox for no validation image']],
  },
  {
    name: 'a class missed in the first epoch only is not reported',
    source: file({}),
    history: [
      [1.0, 0.5, 1.0, 0.5, [20, 10, 0]],
      [0.8, 0.6, 0.8, 0.6, [18, 10, 2]],
    ],
    diagnostics: [],
  },
  {
    name: 'a run of a model no train section trains gives nothing',
    source: file({ train: ['model Other', 'data d'] }),
    history: OVERFIT,
    diagnostics: [],
  },
];

function history(rows: Case['history']): EpochHistory[] {
  return rows.map(([trainLoss, trainAcc, valLoss, valAcc, predicted], epoch) => ({ epoch, train_loss: trainLoss, train_acc: trainAcc, val_loss: valLoss, val_acc: valAcc, ...(predicted ? { val_predicted: predicted } : {}) }));
}

function check(c: Case): void {
  const analysis = analyze(c.source);
  const found = trainingFeedback(analysis, {
    modelName: 'M',
    history: history(c.history),
    classes: ['cat', 'dog', 'fox'],
    ...(c.error ? { error: c.error } : {}),
    ...(c.edited ? { edited: true } : {}),
  });
  const actual = found.map((d, i): Expected => {
    const rendered: Expected = [lineCol(c.source, d.span.start), d.severity, d.code, c.source.slice(d.span.start, d.span.end), d.message];
    const wanted = c.diagnostics[i];
    return wanted && wanted.slice(0, 4).every((part, k) => part === rendered[k]) && d.message.includes(wanted[4]) ? wanted : rendered;
  });
  assert.deepEqual(actual, c.diagnostics);
  if (c.fixed) {
    const fixes = found[0]?.fixes ?? [];
    assert.deepEqual(
      fixes.map((fix) => applyEdits(c.source, fix.edits)),
      c.fixed,
    );
    for (const fixed of c.fixed) {
      const errors = analyze(fixed).diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(errors, [], `a fix left errors in:\n${fixed}`);
    }
  }
}

describe('training feedback', () => {
  for (const c of cases) test(c.name, () => check(c));
});
