/**
 * The prediction server on loopback with a real (untrained, seeded) model: answers to good
 * requests match the model's own predictions, every bad request gets its JSON error and status
 * and the server goes on answering, and a load test (32 concurrent clients for 20 s, as the
 * issue asks; OCULAR_SERVE_LOAD_SECONDS shortens it locally) ends with zero errors.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadServable, type Servable } from '../../server/src/serve/servable';
import { startServer, type RunningServer } from '../../server/src/serve/server';
import { greyPng } from '../support/png';
import { loadTest, REQUEST_TIMEOUT_MS } from '../../bench/serve-load';

const MODEL = `model Tiny {
  input 1x8x8
  conv 4 kernel=3 padding=1
  relu
  flatten
  dense classes
}

dataset marks {
  train "data/train"
  image 1x8x8
  classes ("tick", "cross", "blank")
  normalize mean=0.5 std=0.25
}

train {
  model Tiny
  data marks
  seed 7
}
`;

const TOKEN = 'secret-token';
const image = (seed: number): Buffer => greyPng(8, 8, Uint8Array.from({ length: 64 }, (_, p) => (p * (seed + 3) + seed * 17) % 256));

function multipart(files: readonly { name: string; data: Buffer; type?: string }[], boundary = 'ocular-test-boundary'): { body: Buffer; type: string } {
  const chunks: Buffer[] = [];
  for (const file of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'image/png'}\r\n\r\n`), file.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

describe('prediction server', () => {
  let dir: string;
  let servable: Servable;
  let server: RunningServer;
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${TOKEN}`, ...extra });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-serve-'));
    fs.writeFileSync(path.join(dir, 'marks.ocular'), MODEL);
    servable = await loadServable(path.join(dir, 'marks.ocular'), { backend: 'cpu' });
    server = await startServer(
      { name: servable.model.name, preprocessing: servable.preprocessing, backend: servable.backend, weightsSource: servable.weightsSource, predict: (images) => servable.engineModel.predict(images) },
      { port: 0, token: TOKEN, maxBodyBytes: 4096, topK: 2 },
    );
  });
  after(async () => {
    await server.close();
    servable.engineModel.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('binds to loopback and describes the model', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/health`, { headers: headers() });
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
    const metadata = (await (await fetch(`${server.url}/metadata`, { headers: headers() })).json()) as Record<string, unknown>;
    assert.deepEqual(metadata.classes, ['tick', 'cross', 'blank']);
    assert.deepEqual(metadata.inputShape, [1, 8, 8]);
    assert.deepEqual(metadata.normalize, { mean: [0.5], std: [0.25] });
    assert.equal(metadata.model, 'Tiny');
    assert.equal(metadata.backend, 'cpu');
    assert.equal(metadata.weights, 'untrained (seed 7)');
  });

  test('a raw and a multipart image give the model\'s own top-k', async () => {
    const png = image(1);
    const pixels = Uint8Array.from({ length: 64 }, (_, p) => (p * 4 + 17) % 256);
    const expected = await servable.engineModel.predict(pixels);
    const order = [0, 1, 2].sort((a, b) => expected[b]! - expected[a]!);
    for (const [body, type] of [[png, 'image/png'], [multipart([{ name: 'one.png', data: png }]).body, multipart([]).type]] as const) {
      const response = await fetch(`${server.url}/predict`, { method: 'POST', body, headers: headers({ 'content-type': type }) });
      assert.equal(response.status, 200);
      const { predictions } = (await response.json()) as { predictions: { class: string; index: number; probability: number }[] };
      assert.deepEqual(predictions.map((p) => p.index), order.slice(0, 2));
      assert.deepEqual(predictions.map((p) => p.class), order.slice(0, 2).map((i) => ['tick', 'cross', 'blank'][i]));
      for (const p of predictions) assert.ok(Math.abs(p.probability - expected[p.index]!) < 1e-6);
    }
    const all = (await (await fetch(`${server.url}/predict?k=3`, { method: 'POST', body: png, headers: headers({ 'content-type': 'image/png' }) })).json()) as { predictions: unknown[] };
    assert.equal(all.predictions.length, 3);
  });

  test('a batch answers each file in order', async () => {
    const { body, type } = multipart([0, 1, 2].map((i) => ({ name: `${i}.png`, data: image(i) })));
    const response = await fetch(`${server.url}/predict/batch`, { method: 'POST', body, headers: headers({ 'content-type': type }) });
    assert.equal(response.status, 200);
    const { results } = (await response.json()) as { results: { image: string; predictions: unknown[] }[] };
    assert.deepEqual(results.map((r) => [r.image, r.predictions.length]), [['0.png', 2], ['1.png', 2], ['2.png', 2]]);
  });

  const bad: [string, string, string, Record<string, string>, Buffer | undefined, number, RegExp][] = [
    ['not an image', 'POST', '/predict', { 'content-type': 'image/png' }, Buffer.from('this is text, not a picture'), 400, /not an image/],
    ['empty body', 'POST', '/predict', { 'content-type': 'image/png' }, Buffer.alloc(0), 400, /empty/],
    ['form without a file', 'POST', '/predict', { 'content-type': 'multipart/form-data; boundary=x' }, Buffer.from('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--x--\r\n'), 400, /no file part/],
    ['a bad k', 'POST', '/predict?k=0', { 'content-type': 'image/png' }, image(2), 400, /k must be/],
    ['two images to /predict', 'POST', '/predict', { 'content-type': multipart([]).type }, multipart([{ name: 'a.png', data: image(1) }, { name: 'b.png', data: image(2) }]).body, 400, /batch/],
    ['no token', 'GET', '/metadata', { authorization: '' }, undefined, 401, /Bearer/],
    ['a wrong token', 'POST', '/predict', { authorization: 'Bearer nope', 'content-type': 'image/png' }, image(1), 401, /wrong/],
    ['too large', 'POST', '/predict', { 'content-type': 'image/png' }, Buffer.alloc(5000, 1), 413, /4096/],
    ['a wrong type', 'POST', '/predict', { 'content-type': 'application/json' }, Buffer.from('{}'), 415, /application\/json/],
    ['an unknown path', 'GET', '/nothing', {}, undefined, 404, /No such endpoint/],
    ['a wrong method', 'GET', '/predict', {}, undefined, 405, /takes POST/],
  ];
  for (const [what, method, route, extra, body, status, message] of bad) {
    test(`${what}: ${status} with a JSON error, and the server carries on`, async () => {
      const response = await fetch(`${server.url}${route}`, { method, headers: headers(extra), ...(body ? { body } : {}) });
      assert.equal(response.status, status);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      assert.match(((await response.json()) as { error: string }).error, message);
      assert.equal((await fetch(`${server.url}/health`, { headers: headers() })).status, 200);
    });
  }

  const loadSeconds = Number(process.env.OCULAR_SERVE_LOAD_SECONDS ?? 20);
  // Bounded: each client stops sending at the deadline and each request gives up after
  // REQUEST_TIMEOUT_MS, so the test ends within that of its length even if the server stalls.
  test(`32 concurrent clients for ${loadSeconds} s: zero errors`, { timeout: (loadSeconds + 60) * 1000 }, async () => {
    assert.ok(loadSeconds > 0, `OCULAR_SERVE_LOAD_SECONDS must be a positive number of seconds, not ${process.env.OCULAR_SERVE_LOAD_SECONDS}`);
    const result = await loadTest(server.url, { clients: 32, seconds: loadSeconds, body: image(3), headers: headers({ 'content-type': 'image/png' }) });
    process.stdout.write(`# load: ${result.answered} answers in ${result.seconds.toFixed(1)} s (${(result.answered / result.seconds).toFixed(0)}/s), ${result.failures.length} failures\n`);
    assert.deepEqual(result.failures, []);
    assert.ok(result.answered >= 32, `only ${result.answered} answers`);
    assert.ok(result.seconds >= loadSeconds, `the load ran ${result.seconds} s of ${loadSeconds}`);
    assert.ok(result.seconds < loadSeconds + REQUEST_TIMEOUT_MS / 1000 + 5, `the clients went on ${result.seconds - loadSeconds} s past the deadline`);
  });
});
