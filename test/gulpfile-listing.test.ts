// `gulp --tasks` lists the kit's tasks from a project whose pillar does not
// load (listing needs no valid pillar: only plugin tasks depend on it, and they
// are left out with a warning), while a task that needs the pillar names every
// problem with its key path and file, and fails.
import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useGulpCli } from './helpers/build-project.ts';
import { runGulp } from './helpers/gulp.ts';
import { tempDir } from './helpers/tmp.ts';

test('with a broken pillar/local.yml, gulp --tasks lists every kit task and exits 0; gulp release names the problems and fails', async (t) => {
  const cwd = await tempDir(t);
  await useGulpCli(cwd);
  await mkdir(join(cwd, 'pillar'));
  const local = join(cwd, 'pillar/local.yml');
  await writeFile(local, 'ports:\n  http: eighty\nregistry:\n  prot: 5000\n');
  const listed = await runGulp(cwd, ['--tasks']);
  t.is(listed.code, 0, listed.all);
  for (const task of ['pillar:check', 'fetch', 'release', 'doctor', 'up']) t.regex(listed.stdout, new RegExp(`[├└]── ${task} `), task);
  t.regex(listed.stderr, /^warning: plugin tasks are not listed: ports\.http .*expected TCP port, got "eighty" \(and 1 more\); run `gulp pillar:check`/m);

  const release = await runGulp(cwd, ['release']);
  t.is(release.code, 1, release.all);
  t.regex(release.stderr, new RegExp(`ports\\.http \\(from ${local.replace(/\./g, '\\.')}\\): expected TCP port, got "eighty"`));
  t.regex(release.stderr, /registry\.prot .*did you mean "port"\?/);
  t.notRegex(release.stderr, /^fetch:/m);
});
