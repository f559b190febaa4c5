// dist/bin upkeep after compile: two runs on one project each copy through their
// own partial file, and pruning what left the release spares another run's copy.
import test from 'ava';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installFile, PARTIAL_SUFFIX } from '../lib/atomic.ts';
import { pruneBinDir } from '../tasks/compile.ts';
import { tempDir } from './helpers/tmp.ts';

test('pruning dist/bin removes binaries that left the release but not another run\'s partial copy', async (t) => {
  const dir = await tempDir(t);
  for (const file of ['legacy', 'gone', 'gone.partial', 'vendored.partial-4242']) await writeFile(join(dir, file), file);
  await pruneBinDir(dir, new Set(['legacy', 'vendored']));
  t.deepEqual((await readdir(dir)).sort(), ['legacy', 'vendored.partial-4242']);
});

test('installing a binary copies through a partial file of this process only, leaving others\' in place', async (t) => {
  const dir = await tempDir(t);
  t.is(PARTIAL_SUFFIX, `.partial-${process.pid}`);
  await writeFile(join(dir, 'cached'), 'new binary');
  await writeFile(join(dir, 'vendored.partial-4242'), 'another run');
  await installFile(join(dir, 'cached'), join(dir, 'vendored'));
  t.is(await readFile(join(dir, 'vendored'), 'utf8'), 'new binary');
  t.deepEqual((await readdir(dir)).sort(), ['cached', 'vendored', 'vendored.partial-4242']);
});
