import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { DownloadError, downloadDataset, downloadFiles, loadDataset, type DownloadSpec } from '../../server/src/data/index';
import { removeDir, tempDir } from './fixtures';

/** A ustar archive of the given files. */
function tar(files: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, body] of Object.entries(files)) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    parts.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

let dir: string;
let server: http.Server;
let base: string;
const served = new Map<string, Buffer>();
const requests: { url: string; range?: string }[] = [];
let cutNext = false;

before(async () => {
  dir = tempDir('download');
  server = http.createServer((req, res) => {
    const body = served.get(req.url ?? '');
    requests.push({ url: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (range) {
      const from = Number(range[1]);
      res.writeHead(206, { 'Content-Length': body.length - from, 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(from));
      return;
    }
    if (cutNext) {
      // Sends half, then drops the connection: an interrupted download.
      cutNext = false;
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files/`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  removeDir(dir);
});

describe('downloads', () => {
  test('a CIFAR-style archive is fetched, checked, unpacked and loads', async () => {
    const record = Buffer.alloc(3073, 9);
    record[0] = 4;
    const archive = zlib.gzipSync(tar({ 'cifar-10-batches-bin/data_batch_1.bin': record, 'cifar-10-batches-bin/test_batch.bin': record, 'cifar-10-batches-bin/batches.meta.txt': Buffer.from('a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n'), '../escape.txt': Buffer.from('no') }));
    served.set('/files/cifar.tar.gz', archive);
    const spec: DownloadSpec = { title: 'test', baseUrl: 'http://unused.invalid/', folder: 'cifar-10-batches-bin', files: [{ name: 'cifar.tar.gz', md5: md5(archive), extract: true }] };
    const progress: number[] = [];
    const dest = path.join(dir, 'data');
    const result = await downloadFiles(spec, dest, { baseUrl: base, onProgress: (p) => progress.push(p.received) });
    assert.equal(result.folder, path.join(dest, 'cifar-10-batches-bin'));
    assert.equal(progress.at(-1), archive.length);
    assert.ok(!fs.existsSync(path.join(dir, 'escape.txt')), 'names leaving the folder are refused');
    const loaded = await loadDataset({ sources: [{ split: 'train', path: result.folder }], resize: 'stretch', augment: [] }, { baseDir: dest });
    assert.deepEqual([...loaded.splits.train!.labels], [4]);
    assert.equal(loaded.classes[4], 'e');
    // A second run finds the verified file and fetches nothing.
    const count = requests.length;
    assert.deepEqual((await downloadFiles(spec, dest, { baseUrl: base })).fetched, []);
    assert.equal(requests.length, count);
  });

  test('an interrupted download resumes with a range request', async () => {
    const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    served.set('/files/train-images-idx3-ubyte.gz', body);
    const spec: DownloadSpec = { title: 'test', baseUrl: base, folder: 'mnist', files: [{ name: 'train-images-idx3-ubyte.gz', md5: md5(body) }] };
    cutNext = true;
    const dest = path.join(dir, 'resume');
    await assert.rejects(downloadFiles(spec, dest), DownloadError);
    assert.ok(!fs.existsSync(path.join(dest, 'mnist', 'train-images-idx3-ubyte.gz')), 'no file that looks complete');
    assert.ok(fs.statSync(path.join(dest, 'mnist', 'train-images-idx3-ubyte.gz.part')).size > 0);
    await downloadFiles(spec, dest);
    assert.ok(requests.at(-1)?.range?.startsWith('bytes='), 'resumed');
    assert.deepEqual(fs.readFileSync(path.join(dest, 'mnist', 'train-images-idx3-ubyte.gz')), body);
  });

  test('a damaged file fails its checksum and is deleted', async () => {
    served.set('/files/t10k-images-idx3-ubyte.gz', Buffer.from('not what was published'));
    const dest = path.join(dir, 'bad');
    await assert.rejects(downloadDataset('mnist', dest, { baseUrl: base }), (error: DownloadError) => {
      assert.match(error.message, /MD5/);
      assert.equal(error.offline, false);
      return true;
    });
    assert.deepEqual(fs.readdirSync(path.join(dest, 'mnist')), []);
  });

  test('offline, it says so and names the address and the manual alternative', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const dest = path.join(dir, 'offline');
    await assert.rejects(downloadDataset('cifar10', dest, { baseUrl: `http://127.0.0.1:${port}/` }), (error: DownloadError) => {
      assert.equal(error.offline, true);
      assert.match(error.message, /offline/);
      assert.ok(error.message.includes(`http://127.0.0.1:${port}/cifar-10-binary.tar.gz`));
      assert.ok(error.message.includes(path.join(dest, '.downloads', 'cifar-10-binary.tar.gz')), error.message);
      return true;
    });
  });
});
