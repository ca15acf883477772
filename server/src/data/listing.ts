/**
 * Lists an ImageFolder tree: one folder per class, images anywhere below it. The walk never
 * throws for what it finds on disk: unreadable folders, symlink loops, dangling links and file
 * names that are not valid UTF-8 become findings naming the path, and the rest is listed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Finding } from './findings';
import { count, shown } from './text';

/**
 * Extensions taken as images, compared without regard to case. BMP, PPM and HEIC files are listed
 * too, so that the decoder can say it cannot read them rather than skipping them silently.
 */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp', '.ppm', '.pgm', '.heic', '.heif',
]);

export function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(name.slice(dot).toLowerCase());
}

export interface ImageFile {
  /** Absolute path. */
  readonly path: string;
  /** The class folder's name. */
  readonly class: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface FolderListing {
  readonly root: string;
  /** Class folder names, sorted by code point as torchvision's ImageFolder sorts them. */
  readonly classes: readonly string[];
  /** Images, grouped by class in the order of `classes`, sorted by path inside each class. */
  readonly files: readonly ImageFile[];
  /** Files under the class folders whose extension is not an image's (notes, CSVs, Thumbs.db). */
  readonly ignored: number;
  readonly findings: readonly Finding[];
}

export interface ListOptions {
  /** Whether to read each image's size and modification time (the cache needs them). */
  readonly stat?: boolean;
  /**
   * Walk only these class folders (the class gallery lists one class, not the dataset). `classes`
   * still names every class folder, since labels depend on all of them; `files`, `ignored` and
   * the findings cover the walked folders only.
   */
  readonly only?: readonly string[];
  readonly signal?: AbortSignal;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A Dirent's kind, following a symbolic link; `undefined` with a finding when it cannot. */
async function kindOf(full: string, entry: fs.Dirent, findings: Finding[]): Promise<'file' | 'directory' | 'other' | undefined> {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (!entry.isSymbolicLink()) return 'other';
  try {
    const target = await fs.promises.stat(full);
    return target.isFile() ? 'file' : target.isDirectory() ? 'directory' : 'other';
  } catch (error) {
    const loop = (error as NodeJS.ErrnoException).code === 'ELOOP';
    findings.push({
      code: loop ? 'symlink-loop' : 'broken-link',
      severity: 'warning',
      file: full,
      message: loop
        ? `'${shown(full)}' is a symbolic link that points back to itself; it is skipped. Remove the link.`
        : `'${shown(full)}' is a symbolic link to something that does not exist; it is skipped. Remove the link or restore its target.`,
    });
    return undefined;
  }
}

/** A name that was not valid UTF-8 reaches JavaScript with U+FFFD in it and cannot be opened by that name. */
async function badName(full: string, name: string, findings: Finding[]): Promise<boolean> {
  if (!name.includes('\ufffd')) return false;
  try {
    await fs.promises.lstat(full);
    return false;
  } catch {
    findings.push({
      code: 'bad-file-name',
      severity: 'warning',
      file: full,
      message: `'${shown(full)}' has a name that is not valid UTF-8, so it cannot be opened; it is skipped. Rename it.`,
    });
    return true;
  }
}

async function readFolder(folder: string, findings: Finding[]): Promise<fs.Dirent[] | undefined> {
  try {
    return await fs.promises.readdir(folder, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    findings.push({
      code: 'unreadable-folder',
      severity: 'warning',
      file: folder,
      message: `The folder '${shown(folder)}' cannot be read (${code}); its images are left out. Check its permissions.`,
    });
    return undefined;
  }
}

/**
 * Lists the ImageFolder tree at `root`. Hidden entries (names starting with a dot, such as
 * `.ipynb_checkpoints`) are neither classes nor images: torchvision takes such a folder as a class,
 * which shifts every label after it.
 */
export async function listImageFolder(root: string, options: ListOptions = {}): Promise<FolderListing> {
  const findings: Finding[] = [];
  const absolute = path.resolve(root);
  const top = await readFolder(absolute, findings);
  if (!top) return { root: absolute, classes: [], files: [], ignored: 0, findings };

  const visited = new Set<string>();
  try {
    visited.add(await fs.promises.realpath(absolute));
  } catch {
    // The folder was just read, so this only fails in a race with a deletion; the walk goes on.
  }
  const classFolders: string[] = [];
  let loose = 0;
  for (const entry of top) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(absolute, entry.name);
    if (await badName(full, entry.name, findings)) continue;
    const kind = await kindOf(full, entry, findings);
    if (kind === 'directory') classFolders.push(entry.name);
    else if (kind === 'file' && isImageName(entry.name)) loose++;
  }
  classFolders.sort(byCodeUnit);
  if (loose > 0) {
    findings.push({
      code: 'loose-images',
      severity: 'warning',
      file: absolute,
      count: loose,
      message: `${count(loose)} image${loose === 1 ? ' lies' : 's lie'} directly in '${shown(absolute)}', outside any class folder, and ${loose === 1 ? 'is' : 'are'} not used. Move ${loose === 1 ? 'it' : 'them'} into a folder named after ${loose === 1 ? 'its' : 'their'} class.`,
    });
  }
  if (classFolders.length === 0) {
    findings.push({
      code: 'no-classes',
      severity: 'error',
      file: absolute,
      message: `'${shown(absolute)}' has no class folders. An ImageFolder dataset keeps each class's images in a folder named after the class, as ${shown(path.join(absolute, 'cat', '001.jpg'))}.`,
    });
  }

  // The image paths of the class being walked; sorted and made into ImageFiles once it is done.
  let paths: string[] = [];
  let ignored = 0;
  const walk = async (folder: string, className: string): Promise<void> => {
    options.signal?.throwIfAborted();
    let real: string;
    try {
      real = await fs.promises.realpath(folder);
    } catch {
      real = folder;
    }
    if (visited.has(real)) {
      findings.push({
        code: 'symlink-loop',
        severity: 'warning',
        file: folder,
        class: className,
        message: `'${shown(folder)}' leads back to a folder already listed (${shown(real)}), through a symbolic link; it is skipped so its images are not counted twice.`,
      });
      return;
    }
    visited.add(real);
    const entries = await readFolder(folder, findings);
    if (!entries) return;
    const subfolders: string[] = [];
    const prefix = folder + path.sep;
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      // Concatenation, not path.join: the names come from readdir, and joining 60,000 of them shows.
      const full = prefix + entry.name;
      // Plain files with an image extension take the fast path: no extra system call.
      if (entry.isFile() && !entry.name.includes('\ufffd')) {
        if (isImageName(entry.name)) paths.push(full);
        else ignored++;
        continue;
      }
      if (await badName(full, entry.name, findings)) continue;
      const kind = await kindOf(full, entry, findings);
      if (kind === 'directory') subfolders.push(full);
      else if (kind === 'file') {
        if (isImageName(entry.name)) paths.push(full);
        else ignored++;
      }
    }
    for (const sub of subfolders) await walk(sub, className);
  };
  const walked = options.only ? classFolders.filter((name) => options.only!.includes(name)) : classFolders;
  // Mutable until returned: the stat pass fills in sizes and times without copying 60,000 objects.
  const listed: { path: string; class: string; size: number; mtimeMs: number }[] = [];
  for (const className of walked) {
    paths = [];
    await walk(path.join(absolute, className), className);
    // The default sort compares UTF-16 code units, as byCodeUnit does, without calling back into JavaScript.
    paths.sort();
    for (const file of paths) listed.push({ path: file, class: className, size: -1, mtimeMs: -1 });
  }

  let files: ImageFile[];
  if (options.stat === false) {
    files = listed;
  } else {
    // Synchronous stat: one promise per file costs five times the system call itself, and a
    // listing this size belongs in a worker anyway. Chunks keep the event loop answering.
    files = [];
    for (let start = 0; start < listed.length; start += 4096) {
      options.signal?.throwIfAborted();
      for (let i = start; i < Math.min(start + 4096, listed.length); i++) {
        const file = listed[i]!;
        const stat = fs.statSync(file.path, { throwIfNoEntry: false });
        // A file deleted between listing and stat is simply no longer part of the dataset.
        if (!stat) continue;
        file.size = stat.size;
        file.mtimeMs = stat.mtimeMs;
        files.push(file);
      }
      if (start + 4096 < listed.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return { root: absolute, classes: classFolders, files, ignored, findings };
}
