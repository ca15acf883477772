/**
 * `dropPackedWeights`: the wasm backend keeps a packed copy of a convolution's filter (so a
 * filter rewritten in place still convolves with its old values, which shows the copy exists);
 * once dropped, the convolution packs the filter's current values again, and the filter itself is
 * untouched. Adam's update, written over the weights on wasm, drops them, so the next forward
 * pass convolves with the updated filter.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../server/src/engine/tfjs/backends';
import { writableHeapView } from '../../server/src/engine/tfjs/wasm-heap-view';
import { dropPackedWeights } from '../../server/src/engine/tfjs/wasm-packed-weights';
import { Optimizer } from '../../server/src/engine/tfjs/optimizers';
import { Random } from '../../server/src/random';

describe('dropping the packed weights of the wasm backend', () => {
  it('a filter rewritten in place convolves with its new values once its packed copy is dropped', async () => {
    await selectBackend({ preference: 'wasm' });
    assert.equal(tf.getBackend(), 'wasm');
    const random = new Random(5);
    const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random.normal());
    const x = tf.tensor4d(values(2 * 6 * 6 * 3), [2, 6, 6, 3]);
    const filter = tf.tensor4d(values(3 * 3 * 3 * 4), [3, 3, 3, 4]);
    const replacement = values(3 * 3 * 3 * 4);
    const convolve = (f: tf.Tensor4D): Float32Array => tf.tidy(() => tf.conv2d(x, f, 1, 'same').dataSync() as Float32Array);
    const original = convolve(filter);
    const target = writableHeapView(filter);
    assert.ok(target, 'a fresh tensor shares its data with no other');
    target.set(replacement);
    assert.deepEqual(convolve(filter), original, 'before the drop, the packed copy holds the old values');
    dropPackedWeights([filter]);
    const expected = tf.tensor4d(replacement, [3, 3, 3, 4]);
    assert.deepEqual(convolve(filter), convolve(expected));
    assert.deepEqual(filter.dataSync(), replacement);
    tf.dispose([x, filter, expected]);
  });

  it('a tensor whose data another shares has no writable view', async () => {
    await selectBackend({ preference: 'wasm' });
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const shared = tf.reshape(a, [4]);
    assert.equal(writableHeapView(a), undefined);
    shared.dispose();
    assert.deepEqual(Array.from(writableHeapView(a) ?? []), [1, 2, 3, 4]);
    a.dispose();
  });

  it('after an Adam step written over a filter, a convolution uses the updated filter', async () => {
    await selectBackend({ preference: 'wasm' });
    const random = new Random(8);
    const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random.normal());
    const x = tf.tensor4d(values(2 * 5 * 5 * 3), [2, 5, 5, 3]);
    const filter = tf.tidy(() => tf.variable(tf.tensor4d(values(3 * 3 * 3 * 2), [3, 3, 3, 2])));
    const optimizer = new Optimizer({ name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, [filter]);
    const convolve = (f: tf.Tensor4D): Float32Array => tf.tidy(() => tf.conv2d(x, f, 1, 'valid').dataSync() as Float32Array);
    const before = convolve(filter);
    const dataId = filter.dataId;
    tf.tidy(() => optimizer.apply([tf.onesLike(filter)], 0.1));
    assert.equal(filter.dataId, dataId, 'the update was written over the filter');
    const updated = tf.tensor4d(filter.dataSync(), [3, 3, 3, 2]);
    assert.notDeepEqual(convolve(filter), before);
    assert.deepEqual(convolve(filter), convolve(updated));
    optimizer.dispose();
    tf.dispose([x, filter, updated]);
  });
});
