/** How file names and counts appear in messages. */
import * as path from 'node:path';

/**
 * A path as a message shows it: control characters (a newline in a file name, say) escaped so a
 * message stays on one line, and relative to `base` when the path lies inside it.
 */
export function shown(file: string, base?: string): string {
  const relative = base && file.startsWith(base + path.sep) ? file.slice(base.length + 1) : file;
  return relative.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** 12,345 */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 image", "3 images"; "1 class", "3 classes" with the plural given. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : many}`;
}
