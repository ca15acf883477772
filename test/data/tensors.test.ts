import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { imageAt, loadDataset, readIdx, type DatasetSpec } from '../../server/src/data/index';
import { removeDir, tempDir, write } from './fixtures';

let dir: string;
before(() => (dir = tempDir('tensors')));
after(() => removeDir(dir));

const spec = (sources: DatasetSpec['sources'], more: Partial<DatasetSpec> = {}): DatasetSpec => ({ sources, resize: 'stretch', augment: [], ...more });

/** CIFAR records whose pixels are all `label * 10 + channel`. */
function cifar(labels: readonly number[], fine: boolean): Buffer {
  const record = 3072 + (fine ? 2 : 1);
  const out = Buffer.alloc(labels.length * record);
  labels.forEach((label, r) => {
    const at = r * record;
    if (fine) out[at] = 99;
    out[at + record - 3073] = label;
    for (let c = 0; c < 3; c++) out.fill(label * 10 + c, at + record - 3072 + c * 1024, at + record - 3072 + (c + 1) * 1024);
  });
  return out;
}

function idx(magic: number, dims: readonly number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + dims.length * 4);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + i * 4));
  return Buffer.concat([header, data]);
}

describe('CIFAR', () => {
  test('a CIFAR-10 folder: training batches for train, the test batch for val, known pixels and labels', async () => {
    const root = path.join(dir, 'cifar-10-batches-bin');
    write(path.join(root, 'data_batch_1.bin'), cifar([3, 1], false));
    write(path.join(root, 'data_batch_2.bin'), cifar([7], false));
    write(path.join(root, 'test_batch.bin'), cifar([2], false));
    const loaded = await loadDataset(spec([{ split: 'train', path: root }, { split: 'val', path: root }]), { baseDir: dir });
    assert.deepEqual(loaded.shape, [3, 32, 32]);
    assert.equal(loaded.classes[3], 'cat');
    const train = loaded.splits.train!;
    assert.deepEqual([...train.labels], [3, 1, 7]);
    assert.deepEqual([imageAt(train, 0)[0], imageAt(train, 0)[1024], imageAt(train, 2)[2048]], [30, 31, 72]);
    assert.deepEqual([...loaded.splits.val!.labels], [2]);
    assert.equal(train.ids[2], `${path.join(root, 'data_batch_2.bin')}#0`);
  });

  test('CIFAR-100 uses the fine label, and a model size resizes the images', async () => {
    const file = write(path.join(dir, 'c100', 'train.bin'), cifar([42, 5], true));
    const loaded = await loadDataset(spec([{ split: 'train', path: file }], { image: [1, 8, 8] }), { baseDir: dir });
    assert.deepEqual([...loaded.splits.train!.labels], [42, 5]);
    const pixels = loaded.splits.train!.block.pixels;
    assert.ok(pixels instanceof Uint8Array);
    assert.equal(pixels.length, 2 * 64);
    // Label 42 fills the channels with 420, 421, 422 modulo 256; grey is their luma.
    assert.ok(Math.abs(imageAt(loaded.splits.train!, 0)[0]! - (164 * 0.299 + 165 * 0.587 + 166 * 0.114)) <= 1);
  });

  test('a cut-short batch keeps its whole records and says so', async () => {
    const file = write(path.join(dir, 'cut', 'data_batch_1.bin'), cifar([1, 2, 3], false).subarray(0, 3073 * 2 + 100));
    const loaded = await loadDataset(spec([{ split: 'train', path: file }]), { baseDir: dir });
    assert.equal(loaded.splits.train!.count, 2);
    assert.equal(loaded.findings[0]?.code, 'corrupt-tensor-file');
    assert.ok(loaded.findings[0]?.message.includes('data_batch_1.bin'));
  });
});

describe('IDX (MNIST, Fashion-MNIST, EMNIST)', () => {
  const images = Uint8Array.from({ length: 3 * 28 * 28 }, (_, i) => (Math.floor(i / 784) * 50 + (i % 28)) % 256);
  const labels = Uint8Array.from([5, 0, 9]);
  for (const gz of [false, true]) {
    test(`MNIST files ${gz ? 'gzipped' : 'plain'}: a folder gives train and test by name`, async () => {
      const root = path.join(dir, gz ? 'mnist-gz' : 'mnist');
      const put = (name: string, bytes: Buffer): void => void write(path.join(root, gz ? `${name}.gz` : name), gz ? zlib.gzipSync(bytes) : bytes);
      put('train-images-idx3-ubyte', idx(0x803, [3, 28, 28], images));
      put('train-labels-idx1-ubyte', idx(0x801, [3], labels));
      put('t10k-images-idx3-ubyte', idx(0x803, [1, 28, 28], images.subarray(0, 784)));
      put('t10k-labels-idx1-ubyte', idx(0x801, [1], labels.subarray(0, 1)));
      const loaded = await loadDataset(spec([{ split: 'train', path: root }, { split: 'test', path: root }]), { baseDir: dir });
      assert.deepEqual(loaded.shape, [1, 28, 28]);
      assert.deepEqual([...loaded.splits.train!.labels], [5, 0, 9]);
      assert.deepEqual([imageAt(loaded.splits.train!, 1)[3], imageAt(loaded.splits.train!, 2)[27]], [53, 127]);
      assert.equal(loaded.splits.test!.count, 1);
      assert.equal(loaded.classes.length, 10);
    });
  }

  test('EMNIST images are turned upright; Fashion-MNIST gets its class names', () => {
    const root = path.join(dir, 'emnist');
    const one = new Uint8Array(784);
    one[1] = 200; // Stored transposed: row 1, column 0 upright.
    write(path.join(root, 'emnist-letters-train-images-idx3-ubyte'), idx(0x803, [1, 28, 28], one));
    write(path.join(root, 'emnist-letters-train-labels-idx1-ubyte'), idx(0x801, [1], Uint8Array.from([1])));
    const { set } = readIdx(path.join(root, 'emnist-letters-train-images-idx3-ubyte'));
    assert.equal(set!.pixels[28], 200);
    const fashion = path.join(dir, 'fashion');
    write(path.join(fashion, 'fashion-train-images-idx3-ubyte'), idx(0x803, [1, 28, 28], one));
    write(path.join(fashion, 'fashion-train-labels-idx1-ubyte'), idx(0x801, [1], Uint8Array.from([9])));
    assert.equal(readIdx(path.join(fashion, 'fashion-train-images-idx3-ubyte')).set!.classes[9], 'Ankle boot');
  });

  const broken: { name: string; images: Buffer; labels?: Buffer; about: string }[] = [
    { name: 'a cut-short images file', images: idx(0x803, [3, 28, 28], images.subarray(0, 1000)), labels: idx(0x801, [3], labels), about: 'cut short' },
    { name: 'a damaged gzip file', images: zlib.gzipSync(idx(0x803, [3, 28, 28], images)).subarray(0, 60), labels: idx(0x801, [3], labels), about: 'gzip' },
    { name: 'a missing labels file', images: idx(0x803, [3, 28, 28], images), about: 'labels' },
    { name: 'not an IDX file', images: Buffer.from('hello world, not idx'), labels: idx(0x801, [3], labels), about: 'IDX header' },
  ];
  for (const c of broken) {
    test(`${c.name} is a finding naming the file`, async () => {
      const root = path.join(dir, c.name.replace(/\W/g, '-'));
      write(path.join(root, 'train-images-idx3-ubyte'), c.images);
      if (c.labels) write(path.join(root, 'train-labels-idx1-ubyte'), c.labels);
      const loaded = await loadDataset(spec([{ split: 'train', path: path.join(root, 'train-images-idx3-ubyte') }]), { baseDir: dir });
      const finding = loaded.findings[0];
      assert.ok(finding && finding.message.includes(c.about) && finding.message.includes(root), JSON.stringify(loaded.findings));
      assert.ok(!loaded.splits.train || loaded.splits.train.count === 0);
      assert.ok(fs.existsSync(root));
    });
  }
});
