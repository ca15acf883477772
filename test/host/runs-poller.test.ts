/**
 * The runs poller on a real folder: each step changes the disk (or not), then one poll runs, and
 * the folders it reports are checked. The timer is set far beyond the test, so only the test's
 * own polls run.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { RunsPoller } from '../../server/src/host/runs-poller';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-runs-poller-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const runs = path.join(root, 'a', '.ocular', 'runs');
const other = path.join(root, 'b', '.ocular', 'runs');

function writeRecord(folder: string, id: string, text: string): void {
  fs.mkdirSync(path.join(folder, id), { recursive: true });
  fs.writeFileSync(path.join(folder, id, 'run.json'), text);
}

/** A change to the disk or to what is followed, and the folders the poll after it must report. */
const steps: readonly [what: string, change: (poller: RunsPoller) => void, reported: readonly string[]][] = [
  ['nothing yet, no runs folder', () => undefined, []],
  ['the first run starts: the runs folder and its record appear', () => writeRecord(runs, 'Tiny-1', '{"epochsDone":0}'), [runs]],
  ['nothing changed', () => undefined, []],
  ['the run ends an epoch: its record is rewritten', () => writeRecord(runs, 'Tiny-1', '{"epochsDone":1}'), [runs]],
  ['a second run makes its folder before its record', () => fs.mkdirSync(path.join(runs, 'Tiny-2')), [runs]],
  ['then writes its record', () => writeRecord(runs, 'Tiny-2', '{}'), [runs]],
  ['a folder followed by nobody changes', () => writeRecord(other, 'Tiny-1', '{}'), []],
  ['a second follower of the same folder', (poller) => poller.follow(runs), []],
  ['one follower leaves: the folder is still followed', (poller) => (poller.unfollow(runs), writeRecord(runs, 'Tiny-1', '{"epochsDone":2}')), [runs]],
  ['the other folder is followed from now on', (poller) => poller.follow(other), []],
  ['both change', () => (writeRecord(runs, 'Tiny-3', '{}'), writeRecord(other, 'Tiny-1', '{"epochsDone":1}')), [runs, other]],
  ['a run folder is deleted', () => fs.rmSync(path.join(runs, 'Tiny-2'), { recursive: true }), [runs]],
  ['the last follower leaves: changes go unreported', (poller) => (poller.unfollow(runs), writeRecord(runs, 'Tiny-1', '{"epochsDone":3}')), []],
  ['the whole runs folder of a followed file is deleted', () => fs.rmSync(other, { recursive: true }), [other]],
];

test('the runs poller reports the followed folders whose run records changed since the last poll', async () => {
  const reported: string[] = [];
  const poller = new RunsPoller((folder) => reported.push(folder), 3_600_000);
  try {
    poller.follow(runs);
    for (const [what, change, expected] of steps) {
      change(poller);
      reported.length = 0;
      await poller.poll();
      assert.deepEqual(reported, expected, what);
    }
  } finally {
    poller.dispose();
  }
});
