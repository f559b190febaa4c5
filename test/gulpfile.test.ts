// This repository's own gulpfile: `npx gulp --tasks` lists every kit task with
// its description and flags, and nothing reaches stderr (no loader errors).
import test from 'ava';
import { kitTasks } from '../index.ts';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';

test('gulp --tasks lists every kit task with its description and flags, stderr empty', async (t) => {
  const run = await runGulp(REPO_ROOT, ['--tasks']);
  t.is(run.code, 0, run.all);
  t.is(run.stderr, '');
  for (const task of kitTasks) {
    t.true(run.stdout.includes(task.name), `${task.name} listed`);
    t.true(run.stdout.includes(task.description), `${task.name} described`);
  }
  t.regex(run.stdout, /--pillar FILE\s+…pillar file merged over the defaults/);
});
