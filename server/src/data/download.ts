/**
 * Downloads the standard datasets (CIFAR-10 binary, MNIST, Fashion-MNIST) from their public
 * addresses. Each file is fetched to `NAME.part` (resumed with an HTTP range request when a part
 * is already there), checked against its published MD5, and only then renamed into place, so an
 * interrupted download never leaves a file that looks complete. Files already present with the
 * right checksum are not fetched again, which is also how a file copied by hand is taken up. An
 * unreachable server gives a DownloadError saying the machine looks offline, naming the address
 * and where to put the file by hand.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export interface RemoteFile {
  readonly name: string;
  readonly md5: string;
  /** Unpack a .tar.gz archive after download (CIFAR); IDX .gz files stay as they are, as the reader takes them gzipped. */
  readonly extract?: boolean;
}

export interface DownloadSpec {
  readonly title: string;
  readonly baseUrl: string;
  /** The folder, under the destination, that the files go to; the one to name in the dataset. */
  readonly folder: string;
  readonly files: readonly RemoteFile[];
}

export type DownloadName = 'cifar10' | 'mnist' | 'fashion-mnist';

export const DOWNLOADS: Readonly<Record<DownloadName, DownloadSpec>> = {
  cifar10: {
    title: 'CIFAR-10 (binary version)',
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    folder: 'cifar-10-batches-bin',
    files: [{ name: 'cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', extract: true }],
  },
  mnist: {
    title: 'MNIST',
    baseUrl: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    folder: 'mnist',
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    ],
  },
  'fashion-mnist': {
    title: 'Fashion-MNIST',
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    folder: 'fashion-mnist',
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
      { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
    ],
  },
};

export interface DownloadProgress {
  readonly file: string;
  readonly received: number;
  /** Unknown when the server does not say. */
  readonly total?: number;
}

export interface DownloadOptions {
  /** Replaces the spec's address (tests, mirrors). */
  readonly baseUrl?: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** Seconds without data before giving up (default 30). */
  readonly timeoutSeconds?: number;
}

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly url: string,
    /** True when the server could not be reached at all. */
    readonly offline: boolean,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'ENETDOWN']);

async function md5Of(file: string): Promise<string | undefined> {
  try {
    const hash = createHash('md5');
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/** Streams `url` onto the end of `part` (resuming from its size), following redirects. */
function fetchTo(url: string, part: string, options: DownloadOptions, manual: string, redirects = 5): Promise<void> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    try {
      offset = fs.statSync(part).size;
    } catch {
      offset = 0;
    }
    const client = url.startsWith('https:') ? https : http;
    const request = client.get(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, ...(options.signal ? { signal: options.signal } : {}) }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location && redirects > 0) {
        response.resume();
        fetchTo(new URL(response.headers.location, url).toString(), part, options, manual, redirects - 1).then(resolve, reject);
        return;
      }
      if (status === 416) {
        // The part is already whole (or longer than the file): start again from nothing.
        response.resume();
        fs.rmSync(part, { force: true });
        fetchTo(url, part, options, manual, redirects).then(resolve, reject);
        return;
      }
      if (status !== 200 && status !== 206) {
        response.resume();
        reject(new DownloadError(`The server answered ${status} for ${url}. ${manual}`, url, false));
        return;
      }
      const append = status === 206;
      const length = Number(response.headers['content-length'] ?? NaN);
      const total = Number.isFinite(length) ? length + (append ? offset : 0) : undefined;
      let received = append ? offset : 0;
      const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
      const name = path.basename(part, '.part');
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        options.onProgress?.({ file: name, received, ...(total !== undefined ? { total } : {}) });
      });
      response.pipe(out);
      out.on('finish', () => resolve());
      out.on('error', reject);
      response.on('error', (error) => reject(new DownloadError(`The download of ${url} broke off (${error.message}); run the command again to resume it. ${manual}`, url, false)));
    });
    request.setTimeout((options.timeoutSeconds ?? 30) * 1000, () => request.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') return reject(error);
      const offline = OFFLINE_CODES.has(error.code ?? '');
      const host = new URL(url).host;
      reject(
        new DownloadError(
          offline
            ? `This machine seems to be offline: ${host} cannot be reached (${error.code}) to download ${url}. ${manual}`
            : `Downloading ${url} failed (${error.message}). ${manual}`,
          url,
          offline,
        ),
      );
    });
  });
}

/** Unpacks the regular files of a .tar.gz into `dest`, refusing names that would land outside it. */
async function extractTarGz(archive: string, dest: string): Promise<string[]> {
  const written: string[] = [];
  const root = path.resolve(dest);
  let pending: Buffer = Buffer.alloc(0);
  // The entry being read: its file (if it is kept), the bytes left, the padding after them, and
  // for a GNU long-name entry the name being collected.
  let entry: { fd?: number; left: number; pad: number; name?: Buffer[] } | undefined;
  let longName: string | undefined;
  const text = (header: Buffer, start: number, length: number): string => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
  for await (const chunk of fs.createReadStream(archive).pipe(zlib.createGunzip())) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    for (;;) {
      if (entry) {
        const take = Math.min(entry.left, pending.length);
        if (entry.fd !== undefined && take > 0) fs.writeSync(entry.fd, pending, 0, take);
        if (entry.name && take > 0) entry.name.push(Buffer.from(pending.subarray(0, take)));
        entry.left -= take;
        pending = pending.subarray(take);
        if (entry.left > 0 || pending.length < entry.pad) break;
        pending = pending.subarray(entry.pad);
        if (entry.fd !== undefined) fs.closeSync(entry.fd);
        if (entry.name) longName = Buffer.concat(entry.name).toString('utf8').replace(/\0.*$/s, '');
        entry = undefined;
        continue;
      }
      if (pending.length < 512) break;
      const header = pending.subarray(0, 512);
      pending = pending.subarray(512);
      if (header.every((b) => b === 0)) continue;
      const size = parseInt(text(header, 124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156]!);
      const prefix = text(header, 345, 155);
      const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      longName = undefined;
      const pad = (512 - (size % 512)) % 512;
      const target = path.resolve(root, name);
      if (type === 'L') entry = { left: size, pad, name: [] };
      else if ((type === '0' || type === '\0') && !path.isAbsolute(name) && target.startsWith(root + path.sep)) {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        entry = { fd: fs.openSync(target, 'w'), left: size, pad };
        written.push(target);
      } else entry = { left: size, pad };
    }
  }
  return written;
}

export interface DownloadResult {
  /** The folder to name in the dataset section. */
  readonly folder: string;
  /** Files fetched this time (already-present files are not). */
  readonly fetched: readonly string[];
}

/** Downloads the files of `spec` into `destDir` (the folder goes under it), verifying each. */
export async function downloadFiles(spec: DownloadSpec, destDir: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const base = options.baseUrl ?? spec.baseUrl;
  const downloads = path.resolve(destDir, '.downloads');
  const folder = path.resolve(destDir, spec.folder);
  await fs.promises.mkdir(downloads, { recursive: true });
  await fs.promises.mkdir(folder, { recursive: true });
  const fetched: string[] = [];
  for (const file of spec.files) {
    const url = new URL(file.name, base.endsWith('/') ? base : `${base}/`).toString();
    const final = file.extract ? path.join(downloads, file.name) : path.join(folder, file.name);
    const manual = `To install it by hand, download ${url} on a machine that is online and copy it to ${final}; then run the command again, which checks it and ${file.extract ? 'unpacks it' : 'uses it'}.`;
    if ((await md5Of(final)) !== file.md5) {
      const part = `${final}.part`;
      await fetchTo(url, part, options, manual);
      const sum = await md5Of(part);
      if (sum !== file.md5) {
        await fs.promises.rm(part, { force: true });
        throw new DownloadError(`${url} arrived damaged: its MD5 is ${sum} where ${file.md5} was expected, so it was deleted. Run the command again; if it keeps failing, ${manual.charAt(3).toLowerCase()}${manual.slice(4)}`, url, false);
      }
      await fs.promises.rename(part, final);
      fetched.push(final);
    }
    if (file.extract) await extractTarGz(final, destDir);
  }
  return { folder, fetched };
}

/** Downloads one of the standard datasets into `destDir` (say, `data/` beside the model file). */
export function downloadDataset(name: DownloadName, destDir: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  return downloadFiles(DOWNLOADS[name], destDir, options);
}
