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

/**
 * A message with the paths it names shortened for a reader who has the model file open: a path
 * under one of `bases` loses that base (the longest that fits), so
 * "'/home/me/digits/data/train/0/bad.png' is damaged" reads "'data/train/0/bad.png' is damaged"
 * for the base /home/me/digits. Only a base that starts a path counts (at the start of the message
 * or after a quote, a bracket or a space), and the file system's root is never a base, so every
 * other path stays as it was. Messages are built with absolute paths because they are cached and
 * shared by model files in different folders; they are shortened when they are shown.
 */
export function withRelativePaths(message: string, bases: readonly string[]): string {
  const prefixes = [...new Set(bases.map((base) => path.resolve(base)).filter((base) => path.dirname(base) !== base))]
    .map((base) => shown(base) + path.sep)
    .sort((a, b) => b.length - a.length);
  if (prefixes.length === 0) return message;
  const pattern = new RegExp(`(?<=^|['"(\\s])(?:${prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'g');
  return message.replace(pattern, '');
}

/** 12,345 */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 image", "3 images"; "1 class", "3 classes" with the plural given. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : many}`;
}
