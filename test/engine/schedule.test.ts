/** Learning rates per epoch for every schedule, against PyTorch's schedulers worked by hand. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LearningRateSchedule } from '../../server/src/engine/schedule';
import { trainOf } from './helpers';

const close = (actual: readonly number[], expected: readonly number[]): void => {
  assert.equal(actual.length, expected.length);
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) <= 1e-12 + 1e-9 * Math.abs(expected[i]!), `epoch ${i}: ${value} ≠ ${expected[i]}`));
};

const rates = (lines: string[], count: number): number[] => {
  const schedule = LearningRateSchedule.of(trainOf(...lines));
  return Array.from({ length: count }, (_, epoch) => schedule.rate(epoch));
};

const cosine = (base: number, min: number, span: number, t: number): number => min + ((base - min) * (1 + Math.cos((Math.PI * t) / span))) / 2;

const cases: { name: string; lines: string[]; epochs: number; expected: number[] }[] = [
  { name: 'constant (the default)', lines: ['optimizer adam lr=0.001'], epochs: 4, expected: [0.001, 0.001, 0.001, 0.001] },
  {
    name: 'step every=7 gamma=0.1 over 25 epochs',
    lines: ['epochs 25', 'optimizer adam lr=0.001', 'schedule step every=7 gamma=0.1'],
    epochs: 25,
    expected: [...Array(7).fill(1e-3), ...Array(7).fill(1e-4), ...Array(7).fill(1e-5), ...Array(4).fill(1e-6)],
  },
  {
    name: 'multistep milestones=(2, 4) gamma=0.5',
    lines: ['epochs 6', 'optimizer sgd lr=0.1', 'schedule multistep milestones=(2, 4) gamma=0.5'],
    epochs: 6,
    expected: [0.1, 0.1, 0.05, 0.05, 0.025, 0.025],
  },
  {
    name: 'cosine over 4 epochs down to min_lr',
    lines: ['epochs 4', 'optimizer sgd lr=0.1', 'schedule cosine min_lr=0.01'],
    epochs: 4,
    expected: [0, 1, 2, 3].map((t) => cosine(0.1, 0.01, 4, t)),
  },
  {
    name: 'warmup=2 rises from a tenth, then cosine spans the remaining 4 epochs',
    lines: ['epochs 6', 'optimizer adamw lr=0.002', 'schedule cosine warmup=2'],
    epochs: 6,
    expected: [0.0002, 0.0002 + 0.9 * 0.002 * 0.5, ...[0, 1, 2, 3].map((t) => cosine(0.002, 0, 4, t))],
  },
  {
    name: 'warmup=3 then step every=2: the step counts from the end of the warm-up',
    lines: ['epochs 8', 'optimizer sgd lr=0.3', 'schedule step every=2 gamma=0.1 warmup=3'],
    epochs: 8,
    expected: [0.03, 0.12, 0.21, 0.3, 0.3, 0.03, 0.03, 0.003],
  },
];

describe('learning-rate schedules', () => {
  for (const c of cases) it(c.name, () => close(rates(c.lines, c.epochs), c.expected));

  const plateauCases: { name: string; lines: string[]; metrics: [number, number][]; expected: number[] }[] = [
    {
      name: 'plateau patience=1 on val_loss: reduces after two epochs without improvement',
      lines: ['optimizer sgd lr=0.1', 'schedule plateau factor=0.5 patience=1'],
      // val_loss, val_acc per epoch; the rate shown is the one the next epoch uses.
      metrics: [[1.0, 0.5], [0.9, 0.5], [0.95, 0.5], [0.91, 0.5], [0.8, 0.5], [0.8, 0.5], [0.8, 0.5]],
      expected: [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025],
    },
    {
      name: 'plateau on val_acc: a rise below the 1e-4 relative threshold is no improvement',
      lines: ['optimizer sgd lr=0.1', 'schedule plateau factor=0.1 patience=0 monitor=val_acc'],
      metrics: [[1, 0.5], [1, 0.50001], [1, 0.6]],
      expected: [0.1, 0.01, 0.01],
    },
    {
      name: 'plateau ignores the warm-up epochs',
      lines: ['optimizer sgd lr=0.1', 'schedule plateau factor=0.1 patience=0 warmup=2'],
      metrics: [[1, 0], [1, 0], [1, 0], [1, 0]],
      expected: [0.055, 0.1, 0.1, 0.01],
    },
  ];
  for (const c of plateauCases) {
    it(c.name, () => {
      const schedule = LearningRateSchedule.of(trainOf(...c.lines));
      const seen = c.metrics.map(([valLoss, valAcc], epoch) => {
        schedule.observe(epoch, { val_loss: valLoss, val_acc: valAcc });
        return schedule.rate(epoch + 1);
      });
      close(seen, c.expected);
    });
  }
});
