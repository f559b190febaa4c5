// corpus.lock.json under concurrent runs and bad content: concurrent
// `fetch --only` runs keep each other's pins, and a file that is not a lock
// stops the run naming the file (never read as "no pins", which would switch
// off the moved-tag check) until --repin writes it anew.
import test from 'ava';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProject } from './helpers/build-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';

test.before(() => requireCommands('git', 'flock'));

const lockText = (cwd: string) => readFile(join(cwd, 'corpus.lock.json'), 'utf8');

test('concurrent fetch --only runs each keep the other\'s pins', async (t) => {
  const names = ['vendored', 'legacy', 'moddep'];
  const project = await buildProject(t, { names });
  // Sources cached first: the runs then spend their time in the lock file, where they race.
  t.is((await project.run('fetch')).error, undefined);
  for (let round = 0; round < 5; round++) {
    await rm(join(project.cwd, 'corpus.lock.json'));
    const runs = await Promise.all(names.map((name) => project.run('fetch', ['--only', name])));
    for (const run of runs) t.is(run.error, undefined, run.err);
    const lock = JSON.parse(await lockText(project.cwd)) as { binaries: Record<string, { commit: string }> };
    t.deepEqual(Object.keys(lock.binaries).sort(), [...names].sort(), `round ${round}`);
    for (const name of names) t.is(lock.binaries[name]?.commit, project.upstream[name]!.head());
  }
});

test('a corpus.lock.json that is not a lock stops fetch naming the file; --repin writes it anew', async (t) => {
  const project = await buildProject(t, { names: ['vendored'] });
  const file = join(project.cwd, 'corpus.lock.json');
  const bad: [string, RegExp][] = [
    ['[]', /expected an object, got a list/],
    ['"x"', /expected an object, got "x"/],
    ['{"binaries":null}', /expected "binaries": an object, got null/],
    ['{"schema":2,"binaries":{}}', /expected "schema": 1, got 2/],
    ['{"schema":1,"binaries":{"vendored":{"ref":"v1.0.0","commit":"HEAD"}}}', /binaries\.vendored: expected \{ref, commit\}/],
    ['{"schema":1,', /JSON/],
  ];
  for (const [text, why] of bad) {
    await writeFile(file, text);
    const run = await project.run('fetch');
    t.regex(run.error?.message ?? '', new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a corpus lock file \\(`), text);
    t.regex(run.error?.message ?? '', why, text);
    t.regex(run.error?.message ?? '', /run again with --repin to write it anew/, text);
    t.is(await lockText(project.cwd), text, 'left as it was');
  }
  const repin = await project.run('fetch', ['--repin']);
  t.is(repin.error, undefined, repin.err);
  t.deepEqual(JSON.parse(await lockText(project.cwd)), { schema: 1, binaries: { vendored: { ref: 'v1.0.0', commit: project.upstream.vendored!.head() } } });
});
