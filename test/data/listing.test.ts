import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listImageFolder } from '../../server/src/data/listing';
import { removeDir, tempDir, write } from './fixtures';

let dir: string;
before(() => (dir = tempDir('listing')));
after(() => removeDir(dir));

describe('listImageFolder', () => {
  test('lists classes sorted, images in any case of extension and any depth, skipping hidden entries', async () => {
    const root = path.join(dir, 'tree');
    for (const file of ['dog/b.PNG', 'dog/a.jpg', 'cat/x.JpEg', 'cat/sub/deeper/y.webp', 'cat/notes.txt', 'cat/.hidden.png', '.ipynb_checkpoints/z.png', 'bird/q.tiff', 'Zebra/z.gif', 'cat/odd name ✓ \n.avif']) {
      write(path.join(root, file), 'x');
    }
    const listing = await listImageFolder(root);
    assert.deepEqual(listing.classes, ['Zebra', 'bird', 'cat', 'dog']);
    assert.deepEqual(
      listing.files.map((f) => [f.class, path.relative(root, f.path)]),
      [['Zebra', 'Zebra/z.gif'], ['bird', 'bird/q.tiff'], ['cat', 'cat/odd name ✓ \n.avif'], ['cat', 'cat/sub/deeper/y.webp'], ['cat', 'cat/x.JpEg'], ['dog', 'dog/a.jpg'], ['dog', 'dog/b.PNG']],
    );
    assert.equal(listing.ignored, 1);
    assert.ok(listing.files.every((f) => f.size === 1 && f.mtimeMs > 0));
    assert.deepEqual(listing.findings, []);

    // Walking only some class folders still names every class, so labels stay those of the full listing.
    const onlyCat = await listImageFolder(root, { only: ['cat', 'missing'] });
    assert.deepEqual(onlyCat.classes, ['Zebra', 'bird', 'cat', 'dog']);
    assert.deepEqual(onlyCat.files, listing.files.filter((f) => f.class === 'cat'));
    assert.deepEqual((await listImageFolder(root, { only: [] })).files, []);
  });

  const cases: { name: string; make: (root: string) => void; code: string; about: string }[] = [
    { name: 'a symbolic-link loop', make: (root) => { write(path.join(root, 'cat/a.png'), 'x'); fs.symlinkSync('..', path.join(root, 'cat/up')); }, code: 'symlink-loop', about: 'up' },
    { name: 'a link to itself', make: (root) => { write(path.join(root, 'cat/a.png'), 'x'); fs.symlinkSync('self.png', path.join(root, 'cat/self.png')); }, code: 'symlink-loop', about: 'self.png' },
    { name: 'a dangling link', make: (root) => { write(path.join(root, 'cat/a.png'), 'x'); fs.symlinkSync('missing.png', path.join(root, 'cat/gone.png')); }, code: 'broken-link', about: 'gone.png' },
    { name: 'a name that is not UTF-8', make: (root) => { write(path.join(root, 'cat/a.png'), 'x'); fs.writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'cat') + '/'), Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x70, 0x6e, 0x67])]), 'x'); }, code: 'bad-file-name', about: '.png' },
    { name: 'images outside class folders', make: (root) => { write(path.join(root, 'cat/a.png'), 'x'); write(path.join(root, 'stray.jpg'), 'x'); }, code: 'loose-images', about: '' },
    { name: 'no class folders', make: (root) => { write(path.join(root, 'a.png'), 'x'); }, code: 'no-classes', about: '' },
  ];
  for (const c of cases) {
    test(`reports ${c.name} and goes on`, async () => {
      const root = path.join(dir, c.code + c.about.replace(/\W/g, ''));
      c.make(root);
      const listing = await listImageFolder(root);
      const finding = listing.findings.find((f) => f.code === c.code);
      assert.ok(finding, `expected ${c.code}, got ${JSON.stringify(listing.findings)}`);
      assert.ok(finding.file?.includes(c.about), finding.file);
      if (c.code !== 'no-classes') assert.deepEqual(listing.files.map((f) => path.basename(f.path)), ['a.png']);
    });
  }

  test('a followed link to another folder lists its images once', async () => {
    const root = path.join(dir, 'linked');
    write(path.join(dir, 'elsewhere/e.png'), 'x');
    write(path.join(root, 'cat/a.png'), 'x');
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(root, 'cat/more'));
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(root, 'cat/again'));
    const listing = await listImageFolder(root);
    assert.equal(listing.files.length, 2);
    assert.equal(listing.findings.filter((f) => f.code === 'symlink-loop').length, 1);
  });

  test('a missing root is a finding, not a throw', async () => {
    const listing = await listImageFolder(path.join(dir, 'nowhere'));
    assert.equal(listing.findings[0]?.code, 'unreadable-folder');
  });

  test('an unreadable folder is reported and the rest listed', { skip: process.platform === 'win32' }, () => {
    const root = path.join(dir, 'locked');
    write(path.join(root, 'cat/a.png'), 'x');
    write(path.join(root, 'dog/b.png'), 'x');
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(root, 'dog'), 0o000);
    try {
      // Root reads every folder whatever its mode, so the listing runs as an unprivileged user there.
      const script = `require(${JSON.stringify(path.resolve(__dirname, '../../server/src/data/listing.js'))}).listImageFolder(${JSON.stringify(root)}).then((l) => console.log(JSON.stringify(l)))`;
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', ...asNobody });
      assert.equal(run.status, 0, run.stderr);
      const listing = JSON.parse(run.stdout) as { files: { path: string }[]; findings: { code: string; file: string; message: string }[] };
      assert.deepEqual(listing.files.map((f) => path.basename(f.path)), ['a.png']);
      assert.equal(listing.findings[0]?.code, 'unreadable-folder');
      assert.ok(listing.findings[0]?.message.includes('dog'));
    } finally {
      fs.chmodSync(path.join(root, 'dog'), 0o755);
    }
  });
});
