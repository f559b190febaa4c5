// The context gulp's load made (to list plugin tasks) is the one the task run
// next uses, when the command line gives it the same flags: the pillar and the
// plugins are loaded once per command. A context belongs to one run: a second
// run, or a run with other flags, gets a new one.
import test from 'ava';
import { join } from 'node:path';
import { createTasks, definePlugin, defineTask } from '../index.ts';
import type { Context } from '../lib/context.ts';
import { tempDir } from './helpers/tmp.ts';

test('one pillar load per command: the run reuses the listing\'s context, once; other flags get their own', async (t) => {
  const cwd = await tempDir(t);
  let setups = 0;
  const counted = definePlugin({ name: 'counted', setup: () => void setups++ });
  const seen: Context[] = [];
  const probe = defineTask({ name: 'probe', description: 'remember the context', flags: ['only'], run: async (ctx) => void seen.push(ctx) });
  const make = (argv: string[]) => createTasks({ cwd, argv, plugins: [counted], tasks: [probe], pillar: { data_root: join(cwd, 'data') }, logger: { out: () => {}, err: () => {} } });

  const tasks = await make(['probe', '--only', 'registry']);
  t.is(setups, 1, 'gulp\'s load sets the plugins up');
  await tasks.probe();
  t.is(setups, 1, 'the run reused the loaded context');
  t.deepEqual(seen[0]!.flags.only, ['registry']);
  await tasks.probe();
  t.is(setups, 2, 'a second run gets a context of its own');
  t.not(seen[1], seen[0]);
  t.not(seen[1]!.artifacts, seen[0]!.artifacts);

  // `gulp probe doctor --json`: the load saw --json, the probe does not take it: the probe's run makes its own context.
  setups = 0;
  const other = await make(['probe', 'doctor', '--json']);
  await other.probe();
  t.is(setups, 2);
  t.false(seen[2]!.flags.json);
});
