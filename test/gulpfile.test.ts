// This repository's own gulpfile through the real gulp CLI: `npx gulp --tasks`
// lists every kit task with its description and flags; no command prints
// gulp-cli's loader lines, and data commands print only their data on stdout.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { kitTasks } from '../index.ts';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';

const LOADER_LINES = /Loaded external module|Failed to load external module|Node flags detected|Respawned to PID|Working directory changed/;

test('gulp --tasks lists every kit task with its description and flags, stderr empty', async (t) => {
  const run = await runGulp(REPO_ROOT, ['--tasks']);
  t.is(run.code, 0, run.all);
  t.is(run.stderr, '');
  t.notRegex(run.all, LOADER_LINES);
  for (const task of kitTasks) {
    t.true(run.stdout.includes(task.name), `${task.name} listed`);
    t.true(run.stdout.includes(task.description), `${task.name} described`);
  }
  t.regex(run.stdout, /--pillar FILE\s+…pillar file merged over the defaults/);
});

test('pillar:show and pillar:schema --stdout write only their data on stdout; gulp\'s progress goes to stderr', async (t) => {
  const show = await runGulp(REPO_ROOT, ['pillar:show']);
  t.is(show.code, 0, show.all);
  t.notRegex(show.all, LOADER_LINES);
  t.is((parse(show.stdout) as { project: string }).project, 'registry');
  t.regex(show.stderr, /^Starting 'pillar:show'\.\.\.$/m);
  const schema = await runGulp(REPO_ROOT, ['pillar:schema', '--stdout']);
  t.is(schema.code, 0, schema.all);
  t.is(schema.stdout, await readFile(join(REPO_ROOT, 'pillar/pillar.schema.json'), 'utf8'));
});
