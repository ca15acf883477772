/**
 * Data-parallel training (server/src/engine/tfjs/data-parallel.ts): steps on several threads give
 * what one thread gives within float rounding (dropout included, uneven and empty shards,
 * accumulation), weights and state written to the model reach every replica, replicas combine
 * to bit-identical weights (batchnorm statistics included), and a replica that cannot start is
 * an error that says so.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, BuildOptions, EngineModel, TrainingSetup, WeightMap } from '../../server/src/engine/engine';
import { lossTargets } from '../../server/src/engine/loss';
import { applySums, DataParallelModel, exchangeLength, reduceShards, shardSizes, shardStarts, sliceShard, writeShard } from '../../server/src/engine/tfjs/data-parallel';
import { TfjsEngine, type ShardGradients } from '../../server/src/engine/tfjs/tfjs-engine';
import { Random } from '../../server/src/random';
import { modelOf, modelSource } from './helpers';

const CLASSES = 3;
const adam = (accumulate = 1): TrainingSetup => ({ optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, labelSmoothing: 0.1, accumulate });
/** Convolution, pooling, dropout and dense layers; no batchnorm, so shards must add up exactly. */
const withDropout = modelSource('3x8x8', 'conv 6 kernel=3 padding=1', 'relu', 'maxpool 2', 'flatten', 'dense 16', 'relu', 'dropout 0.5', `dense ${CLASSES}`);
const withBatchnorm = modelSource('3x8x8', 'conv 6 kernel=3', 'batchnorm', 'relu', 'flatten', `dense ${CLASSES}`);

function batchOf(size: number, seed: number): Batch {
  const random = new Random(seed);
  return { images: Uint8Array.from({ length: size * 3 * 8 * 8 }, () => random.int(256)), labels: Int32Array.from({ length: size }, () => random.int(CLASSES)) };
}

let engine: TfjsEngine;
const engineOnce = async (): Promise<TfjsEngine> => (engine ??= await TfjsEngine.create({ preference: 'wasm' }));
after(() => assert.equal(tf.memory().numTensors, 0, 'every tensor is disposed'));

/** Trains `steps` batches (sizes cycling through `sizes`) and returns the losses and the weights. */
async function train(source: string, options: BuildOptions, sizes: readonly number[], steps: number, from?: EngineModel): Promise<{ losses: number[]; weights: WeightMap; model: EngineModel }> {
  const model = from ?? (await (await engineOnce()).build(modelOf(source), options));
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) losses.push((await model.trainStep(batchOf(sizes[step % sizes.length]!, step), 0.01)).loss);
  return { losses, weights: await model.getWeights(), model };
}

function assertNear(actual: WeightMap, expected: WeightMap, tolerance: number): void {
  for (const [key, tensor] of expected) {
    const values = actual.get(key)!.values;
    let worst = 0;
    tensor.values.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - values[i]!))));
    assert.ok(worst <= tolerance, `${key} differs by ${worst}`);
  }
}

describe('data-parallel training', () => {
  it('splits a batch into shards as even as can be, the larger first', () => {
    const check = (total: number, parts: number, expected: number[]): void => assert.deepEqual(shardSizes(total, parts), expected, `${total} in ${parts}`);
    check(128, 2, [64, 64]);
    check(11, 2, [6, 5]);
    check(10, 3, [4, 3, 3]);
    check(1, 2, [1, 0]);
    check(0, 2, [0, 0]);
    assert.deepEqual(shardStarts([4, 3, 3]), [0, 4, 7]);
  });

  it('by default trains a model of a million multiply-adds per image on one thread per core, a smaller one on one', async () => {
    const e = await engineOnce();
    const check = async (source: string, expected: number): Promise<void> => {
      const model = await e.build(modelOf(source), { seed: 1, training: adam() });
      model.dispose();
      assert.equal(model.threads, expected, `${modelOf(source).totalMacs} MACs`);
    };
    await check(withDropout, 1);
    await check(modelSource('3x32x32', 'conv 64 kernel=3 padding=1', 'relu', 'globalavgpool', 'flatten', `dense ${CLASSES}`), os.availableParallelism());
  });

  const cases: { name: string; threads: number; sizes: number[]; accumulate?: number }[] = [
    { name: 'two threads, even and uneven shards', threads: 2, sizes: [12, 11] },
    { name: 'three threads, a batch smaller than the threads (an empty shard)', threads: 3, sizes: [7, 2] },
    { name: 'two threads gathering two batches per update', threads: 2, sizes: [9, 6], accumulate: 2 },
  ];
  for (const { name, threads, sizes, accumulate } of cases) {
    it(`${name}: the same losses and weights as one thread, dropout included`, async () => {
      const options = (n: number): BuildOptions => ({ seed: 3, threads: n, training: adam(accumulate) });
      const one = await train(withDropout, options(1), sizes, 4);
      const many = await train(withDropout, options(threads), sizes, 4);
      try {
        assert.equal(one.model.threads, 1);
        assert.equal(many.model.threads, threads);
        one.losses.forEach((loss, i) => assert.ok(Math.abs(loss - many.losses[i]!) < 1e-5, `step ${i + 1}: ${many.losses[i]} ≠ ${loss}`));
        assertNear(many.weights, one.weights, 1e-5);
        // Adam has moved every weight by about 0.01 a step: the comparison is not of untouched weights.
        const initial = await (await engineOnce()).buildReplica(modelOf(withDropout), options(1));
        const start = await initial.getWeights();
        initial.dispose();
        assert.ok([...start].some(([key, t]) => t.values.some((v, i) => Math.abs(v - one.weights.get(key)!.values[i]!) > 1e-3)), 'training changed the weights');
      } finally {
        one.model.dispose();
        many.model.dispose();
      }
    });
  }

  it('predicts and evaluates over the threads what one thread gives, in image order', async () => {
    const e = await engineOnce();
    const options = (threads: number): BuildOptions => ({ seed: 9, threads, training: adam() });
    const one = await e.build(modelOf(withBatchnorm), options(1));
    const three = await e.build(modelOf(withBatchnorm), options(3));
    try {
      // A step first, so the running statistics the replicas evaluate with are the trained ones.
      for (const model of [one, three]) await model.trainStep(batchOf(12, 1), 0.01);
      const batch = batchOf(13, 2);
      const [expected, actual] = await Promise.all([one.predict(batch.images), three.predict(batch.images)]);
      assert.equal(actual.length, 13 * CLASSES);
      let worst = 0;
      expected.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - actual[i]!))));
      // Batchnorm trained on shards: the replicas' statistics are the mean of theirs, not the batch's.
      assert.ok(worst < 0.05, `probabilities differ by ${worst}`);
      const exact = await e.build(modelOf(withDropout), options(3));
      const reference = await e.build(modelOf(withDropout), options(1));
      const [a, b] = [await exact.evaluate(batch), await reference.evaluate(batch)];
      assert.equal(a.count, 13);
      assert.equal(a.correct, b.correct);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-6, `loss ${a.loss} ≠ ${b.loss}`);
      const [pa, pb] = [await exact.predict(batch.images), await reference.predict(batch.images)];
      pb.forEach((p, i) => assert.ok(Math.abs(p - pa[i]!) < 1e-6, `probability ${i}: ${pa[i]} ≠ ${p}`));
      exact.dispose();
      reference.dispose();
    } finally {
      one.dispose();
      three.dispose();
    }
  });

  it('weights and training state written to the model reach every replica', async () => {
    const options: BuildOptions = { seed: 5, threads: 2, training: adam() };
    const whole = await train(withDropout, options, [10], 4);
    const firstHalf = await train(withDropout, options, [10], 2);
    const weights = firstHalf.weights;
    const state = await firstHalf.model.getTrainingState();
    firstHalf.model.dispose();
    // A fresh model starts from the initial weights: its replica agrees with the primary only if what is written reaches it.
    const resumed = await (await engineOnce()).build(modelOf(withDropout), options);
    try {
      resumed.setWeights(weights);
      resumed.setTrainingState(state);
      const losses: number[] = [];
      for (let step = 2; step < 4; step++) losses.push((await resumed.trainStep(batchOf(10, step), 0.01)).loss);
      losses.forEach((loss, i) => assert.ok(Math.abs(loss - whole.losses[i + 2]!) < 1e-5, `step ${i + 3}: ${loss} ≠ ${whole.losses[i + 2]}`));
      assertNear(await resumed.getWeights(), whole.weights, 1e-5);
    } finally {
      resumed.dispose();
      whole.model.dispose();
    }
  });

  it('the primary sums the shards as tf.add does, and every thread applies the sums into bit-identical weights and batchnorm statistics', async () => {
    const e = await engineOnce();
    const options: BuildOptions = { seed: 7, training: adam() };
    const [primary, replica] = [await e.buildReplica(modelOf(withBatchnorm), options), await e.buildReplica(modelOf(withBatchnorm), options)];
    try {
      // The replica's exchange buffer, over which the primary writes the sums.
      const sums = new Float32Array(exchangeLength(primary));
      for (let step = 0; step < 3; step++) {
        const batch = batchOf(9, 20 + step);
        const targets = lossTargets(batch.labels, CLASSES, 0.1);
        const counts = shardSizes(9, 2);
        const starts = shardStarts(counts);
        const [mine, theirs] = [primary, replica].map((model, i) => {
          const own = sliceShard(batch, targets, starts[i]!, counts[i]!);
          return model.shardGradients(own.batch, own.targets, { start: starts[i]!, total: 9 });
        }) as [ShardGradients, ShardGradients];
        writeShard(replica, theirs, sums);
        const expected = mine.gradients.map((g, k) => tf.tidy(() => tf.add(g, theirs.gradients[k]!).dataSync() as Float32Array));
        reduceShards(primary, mine, [sums], counts, sums);
        let offset = 0;
        expected.forEach((values, k) => assert.deepEqual(sums.slice(offset, (offset += values.length)), values, `gradient ${k}`));
        assert.equal(applySums(primary, mine, sums, 0.01), true);
        assert.equal(applySums(replica, theirs, sums, 0.01), true);
        for (const shard of [mine, theirs]) tf.dispose([shard.loss, shard.correct, ...shard.gradients]);
      }
      const [first, second] = await Promise.all([primary, replica].map((model) => model.getWeights()));
      for (const [key, tensor] of first!) assert.deepEqual(second!.get(key)!.values, tensor.values, key);
      assert.ok(first!.get('batchnorm1.running_mean')!.values.some((v) => v !== 0), 'the running statistics moved');
    } finally {
      primary.dispose();
      replica.dispose();
    }
  });

  it('a replica that cannot start is an error naming the thread, and nothing is left running', async () => {
    const e = await engineOnce();
    const primary = await e.buildReplica(modelOf(withDropout), { seed: 1, training: adam() });
    try {
      await assert.rejects(DataParallelModel.start(primary, modelOf(withDropout), { seed: 1, training: adam() }, 'wasm', 2, path.join(__dirname, 'no-such-worker.js')), /Training thread 2 stopped: .*no-such-worker/);
    } finally {
      primary.dispose();
    }
  });
});
