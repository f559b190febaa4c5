// The pipeline's shape (issue 14, points 1-3): --only is checked once, before
// any step, and a step's skip only answers; every build task runs a prefix of
// the one ordered list, the runner logging and naming each step; no step
// module imports another.
import test from 'ava';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createContext } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { Pipeline, runPipes } from '../lib/pipe.ts';
import { pipeline } from '../tasks/build.ts';
import { createTasks } from '../tasks/index.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { tempDir } from './helpers/tmp.ts';

/** A project whose pillar holds the binaries `binaries` (nothing is fetched by these tests). */
async function project(t: Parameters<typeof tempDir>[0], binaries: Record<string, unknown>): Promise<string> {
  const cwd = await tempDir(t);
  const pillar = { data_root: join(cwd, 'data'), binaries: { registry: { enabled: false }, auth_server: { enabled: false }, ...binaries } };
  await writeFile(join(cwd, 'pillar.yml'), JSON.stringify(pillar));
  return cwd;
}

const vendored = { source: { git: '/nowhere/vendored.git', ref: 'v1.0.0' }, build: { builder: { recipe: 'golang-bookworm' }, package: '.' } };

async function run(cwd: string, task: string, argv: string[]) {
  let log = '';
  const tasks = await createTasks({ cwd, argv: ['--pillar', join(cwd, 'pillar.yml'), ...argv], env: { ...process.env, CI: 'true' }, logger: { out: (s) => void (log += s), err: (s) => void (log += s) } });
  const error = await tasks[task]!().then(() => undefined, (e: Error) => e);
  return { log, error };
}

test('an unknown --only is reported once, by the defaults, before any step starts', async (t) => {
  const cwd = await project(t, { vendored });
  const { log, error } = await run(cwd, 'release', ['--only', 'vendord', '--verbose']);
  t.regex(error?.message ?? '', /^--only: "vendord" \(did you mean "vendored"\?\); binaries to build: vendored$/);
  t.is(`${log}\n${error?.message}`.split('--only:').length - 1, 1, log);
  t.notRegex(log, /^(fetch|compile|package|publish)\S*: /m, 'no step started or was skipped');
});

test('a build step\'s skip only answers from the selection its defaults settled, checking nothing again', async (t) => {
  const cwd = await project(t, { vendored });
  const ctx = await createContext({ cwd, argv: ['--pillar', join(cwd, 'pillar.yml'), '--only', 'vendored'] });
  const steps = pipeline.upTo('package');
  for (const step of steps) await step.defaults?.(ctx);
  const settled = ctx.selection;
  t.deepEqual(settled?.selected.map((b) => b.name), ['vendored']);
  // --only is read once: a later change of the flags is not checked again by skip (it would throw).
  ctx.flags.only = ['no-such-binary'];
  for (const step of steps) t.is(step.skip?.(ctx), false, step.name);
  for (const step of steps) await step.defaults?.(ctx);
  t.is(ctx.selection, settled, 'the defaults of later steps reuse the selection');
});

test('each build task runs a prefix of the one pipeline, each step logged by the runner', async (t) => {
  t.deepEqual(pipeline.pipes.map((p) => p.name), ['fetch', 'compile', 'package', 'publish:load', 'publish']);
  const cwd = await project(t, {});
  for (const [task, steps] of [['fetch', ['fetch']], ['compile', ['fetch', 'compile']], ['package', ['fetch', 'compile', 'package']]] as const) {
    const { log, error } = await run(cwd, task, []);
    t.is(error, undefined, log);
    t.deepEqual([...log.matchAll(/^(\S+): skipped \(no binaries to build\)$/gm)].map((m) => m[1]), [...steps], task);
  }
});

test('the runner names the step an unexpected error came from, and leaves a user error as it is', async (t) => {
  const cwd = await project(t, {});
  let log = '';
  const ctx = await createContext({ cwd, argv: ['--pillar', join(cwd, 'pillar.yml')], logger: { err: (s) => void (log += s) } });
  const steps = new Pipeline([
    { name: 'first', run: async (_ctx, log) => log.info('ran') },
    { name: 'render', run: async () => { throw new Error('EACCES: permission denied'); } },
  ]);
  const error = await t.throwsAsync(runPipes(ctx, steps.upTo('render')));
  t.is(error!.message, 'render: EACCES: permission denied');
  t.is(log, 'first: ran\n', 'a step\'s own lines carry its name');
  const user = new UserError('domain: expected domain name');
  const same = await t.throwsAsync(runPipes(ctx, [{ name: 'check', run: async () => { throw user; } }]));
  t.is(same, user);
});

test('no step module imports another: shared paths are on ctx.paths, atomics in lib/', async (t) => {
  const dir = join(REPO_ROOT, 'tasks');
  const modules = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
  const steps: string[] = [];
  for (const file of modules) if (/: Pipe = \{/.test(await readFile(join(dir, file), 'utf8'))) steps.push(file);
  for (const step of ['compile.ts', 'fetch.ts', 'package.ts']) t.true(steps.includes(step), step);
  for (const file of steps) {
    const imports = [...(await readFile(join(dir, file), 'utf8')).matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]!);
    t.deepEqual(imports.filter((name) => steps.includes(name)), [], `${file} imports ${imports.join(', ')}`);
  }
});
