/**
 * Follows runs folders on disk for runs written by another process (`ocular train` in a
 * terminal, a second editor window): every few seconds it compares each followed folder's run
 * records (names, sizes and modification times; a run rewrites its `run.json` at its start,
 * after every epoch and at its end) with what it saw last, and reports the folders that changed.
 *
 * It polls rather than watches: an editor's file watcher does not reach a language server in
 * every client (code-server's did not report these files at all), `fs.watch` cannot follow a
 * folder that does not exist yet (no run has been trained), and a recursive watch of the model
 * file's folder would also watch every folder of its datasets. A poll costs one `stat` per run,
 * off the event loop (fs.promises).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILE } from '../training/runs';

/** How often followed folders are compared with what was seen last. */
export const POLL_EVERY_MS = 2000;

/** What the run records of a runs folder look like on disk: empty when there is no folder. */
export async function runsSignature(folder: string): Promise<string> {
  let entries: string[];
  try {
    entries = (await fs.promises.readdir(folder)).sort();
  } catch {
    return '';
  }
  const records = await Promise.all(
    entries.map(async (entry) => {
      try {
        const stat = await fs.promises.stat(path.join(folder, entry, RUN_FILE));
        // A run rewrites its record by renaming a new file over it: a new inode, whatever the clock's grain.
        return `${entry}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      } catch {
        // A folder without a record yet (a run starting) or not a run at all.
        return `${entry}:-`;
      }
    }),
  );
  return records.join('\n');
}

export class RunsPoller {
  /** Followed folders: how many followers each has, and the signature last seen. */
  private readonly folders = new Map<string, { followers: number; signature: Promise<string> }>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly changed: (folder: string) => void,
    everyMs = POLL_EVERY_MS,
  ) {
    this.timer = setInterval(() => void this.poll(), everyMs);
    // The poll alone never keeps the process alive.
    this.timer.unref();
  }

  /** Starts following `folder` (as it is now: later changes are reported), or counts one more follower. */
  follow(folder: string): void {
    const followed = this.folders.get(folder);
    if (followed) followed.followers++;
    else this.folders.set(folder, { followers: 1, signature: runsSignature(folder) });
  }

  /** One follower fewer; the folder is no longer polled once it has none. */
  unfollow(folder: string): void {
    const followed = this.folders.get(folder);
    if (!followed) return;
    if (--followed.followers <= 0) this.folders.delete(folder);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.folders.clear();
  }

  /** Compares every followed folder with what was seen last and reports the ones that changed. */
  async poll(): Promise<void> {
    // A slow disk must not stack polls up.
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [folder, followed] of this.folders) {
        const before = await followed.signature;
        const now = runsSignature(folder);
        followed.signature = now;
        // Unfollowed while its signature was read: nobody to tell.
        if ((await now) !== before && this.folders.get(folder) === followed) this.changed(folder);
      }
    } finally {
      this.polling = false;
    }
  }
}
