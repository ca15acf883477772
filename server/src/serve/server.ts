/**
 * The prediction server (node:http): POST /predict (one image, raw or multipart) and
 * POST /predict/batch (several multipart files) answer the top-k classes with probabilities;
 * GET /health and GET /metadata describe it. Images go through the training preprocessing (the
 * data layer's decoder: resize mode, channels; the model normalises). Every bad request gets a
 * JSON `{error}` with its status and the server carries on.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeImage } from '../data/index';
import { MicroBatcher, type PredictFn } from './batcher';
import { boundaryOf, parseMultipart } from './multipart';
import type { Preprocessing } from './servable';

export interface ServeOptions {
  /** 127.0.0.1 unless said otherwise: a model server is not for the network by accident. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** When given, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Largest request body, in bytes. */
  readonly maxBodyBytes?: number;
  /** Classes answered per image unless the query says `?k=N`. */
  readonly topK?: number;
  /** Most images per predict call; 1 turns micro-batching off. */
  readonly maxBatch?: number;
  /** How long an image waits for company while the model is idle, in milliseconds. */
  readonly batchDelayMs?: number;
}

export interface ServedModel {
  readonly name: string;
  readonly preprocessing: Preprocessing;
  readonly backend: string;
  readonly weightsSource: string;
  readonly predict: PredictFn;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** The most files one batch request may carry. */
export const MAX_BATCH_FILES = 64;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function readBody(request: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `The body is ${declared} bytes; this server takes at most ${limit}.`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `The body is over ${limit} bytes, the most this server takes.`));
        // The rest is read and dropped, so the answer reaches the client.
        request.removeAllListeners('data');
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The images of a request body: the raw body for an image type, the file parts of a form. */
function imagesOf(request: http.IncomingMessage, body: Buffer): { name: string; bytes: Buffer }[] {
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const boundary = boundaryOf(request.headers['content-type']!);
    const parts = boundary === undefined ? undefined : parseMultipart(body, boundary);
    if (!parts) throw new HttpError(400, 'The multipart body could not be read (no boundary, or parts without headers).');
    const files = parts.filter((part) => part.filename !== undefined || (part.contentType ?? '').startsWith('image/') || part.contentType === 'application/octet-stream');
    if (files.length === 0) throw new HttpError(400, 'The form has no file part: send the image as a file (curl -F image=@photo.jpg).');
    return files.map((part, i) => ({ name: part.filename ?? part.name ?? `part ${i + 1}`, bytes: part.data }));
  }
  if (type.startsWith('image/') || type.startsWith('application/octet-stream') || type === '') {
    if (body.length === 0) throw new HttpError(400, 'The body is empty: send the image bytes.');
    return [{ name: 'body', bytes: body }];
  }
  throw new HttpError(415, `Content type ${type} is not accepted: send an image (image/png, image/jpeg, …), application/octet-stream or multipart/form-data.`);
}

export async function startServer(served: ServedModel, options: ServeOptions = {}): Promise<RunningServer> {
  const { inputShape, resize, classes } = served.preprocessing;
  const imageSize = inputShape[0] * inputShape[1] * inputShape[2];
  const batcher = new MicroBatcher(served.predict, imageSize, classes.length, { maxBatch: options.maxBatch ?? 32, delayMs: options.batchDelayMs ?? 2 });
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const defaultK = Math.min(options.topK ?? 5, classes.length);

  async function predictOne(name: string, bytes: Buffer, k: number): Promise<{ image: string; predictions: { class: string; index: number; probability: number }[] }> {
    const decoded = await decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), name, { shape: inputShape, resize });
    if (!decoded.ok) throw new HttpError(400, `${name} is not an image this server can read: ${decoded.finding.message}`);
    const probabilities = await batcher.run(decoded.pixels);
    const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]!);
    return { image: name, predictions: order.slice(0, k).map((index) => ({ class: classes[index]!, index, probability: probabilities[index]! })) };
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const routes: Record<string, string> = { '/health': 'GET', '/metadata': 'GET', '/predict': 'POST', '/predict/batch': 'POST' };
    const method = routes[url.pathname];
    if (!method) throw new HttpError(404, `No such endpoint ${url.pathname}: there are ${Object.keys(routes).join(', ')}.`);
    if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) {
      response.setHeader('www-authenticate', 'Bearer');
      throw new HttpError(401, request.headers.authorization ? 'The bearer token is wrong.' : 'This server needs Authorization: Bearer <token>.');
    }
    if (request.method !== method) {
      response.setHeader('allow', method);
      throw new HttpError(405, `${url.pathname} takes ${method}, not ${request.method}.`);
    }
    if (url.pathname === '/health') return send(response, 200, { status: 'ok' });
    if (url.pathname === '/metadata') {
      const { normalize } = served.preprocessing;
      return send(response, 200, { model: served.name, classes, inputShape, resize, ...(normalize ? { normalize } : {}), backend: served.backend, weights: served.weightsSource });
    }
    const kText = url.searchParams.get('k');
    const k = kText === null ? defaultK : Number(kText);
    if (!Number.isInteger(k) || k < 1) throw new HttpError(400, `k must be a whole number, 1 or more, not ${kText}.`);
    const images = imagesOf(request, await readBody(request, limit));
    if (url.pathname === '/predict') {
      if (images.length !== 1) throw new HttpError(400, `/predict takes one image, not ${images.length}: use /predict/batch.`);
      const { predictions } = await predictOne(images[0]!.name, images[0]!.bytes, Math.min(k, classes.length));
      return send(response, 200, { predictions });
    }
    if (images.length > MAX_BATCH_FILES) throw new HttpError(413, `A batch holds at most ${MAX_BATCH_FILES} images, not ${images.length}.`);
    const results = await Promise.all(images.map((image) => predictOne(image.name, image.bytes, Math.min(k, classes.length))));
    return send(response, 200, { results });
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      if (error instanceof HttpError) return send(response, error.status, { error: error.message });
      send(response, 500, { error: `Prediction failed: ${error instanceof Error ? error.message : String(error)}` });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
