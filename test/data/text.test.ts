import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withReadablePaths, type Finding } from '../../server/src/data/findings';
import { withRelativePaths } from '../../server/src/data/text';

describe('withRelativePaths', () => {
  const cases: [message: string, bases: string[], expected: string][] = [
    ["'/home/me/digits/data/train/0/bad.png' is damaged", ['/home/me/digits'], "'data/train/0/bad.png' is damaged"],
    // The longest base that fits wins.
    ["'/data/mnist/train/0/a.png' (train) and '/home/me/x.png'", ['/home/me', '/data/mnist', '/data'], "'train/0/a.png' (train) and 'x.png'"],
    // Only at the start of a path: a base in the middle of another path is left alone.
    ['copies /other/home/me/a.png and (/home/me/b.png)', ['/home/me'], 'copies /other/home/me/a.png and (b.png)'],
    ['/home/me/a.png lies here', ['/home/me'], 'a.png lies here'],
    // A folder that merely shares the prefix is not inside the base.
    ["'/home/menu/a.png'", ['/home/me'], "'/home/menu/a.png'"],
    // The root is never a base; characters special in patterns are taken literally.
    ["'/a.png'", ['/'], "'/a.png'"],
    ["'/tmp/x (1)+[2]/a.png'", ['/tmp/x (1)+[2]'], "'a.png'"],
  ];
  for (const [message, bases, expected] of cases) test(`${message} under ${bases.join(', ')}`, () => assert.equal(withRelativePaths(message, bases), expected));
});

describe('withReadablePaths', () => {
  test('names paths relative to the model folder, or to the folder holding a source outside it, and keeps file absolute', () => {
    const finding = (file: string): Finding => ({ code: 'empty-file', severity: 'warning', file, message: `'${file}' is empty` });
    const shown = withReadablePaths([finding('/proj/data/train/cat/a.png'), finding('/big/imagenet/val/cat/b.png')], '/proj', ['/proj/data/train', '/big/imagenet/val']);
    assert.deepEqual(
      shown.map((f) => [f.file, f.message]),
      [
        ['/proj/data/train/cat/a.png', "'data/train/cat/a.png' is empty"],
        ['/big/imagenet/val/cat/b.png', "'val/cat/b.png' is empty"],
      ],
    );
  });
});
