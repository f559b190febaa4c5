// The consumer API in-process: createTasks' options and mistakes, the pillar's
// precedence, strict flags (the kit's, a plugin task's, a consumer task's, and
// gulp-cli's own passing through), plugins:show and the bad-pillar warning.
import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createTasks, definePlugin, defineTask, registerTasks, type CreateTasksOptions, type GulpTask } from '../index.ts';
import { tempDir } from './helpers/tmp.ts';

type Options = Omit<CreateTasksOptions, 'cwd' | 'logger'>;

/** A project folder and a runner for one task with the given command line, capturing stdout and stderr. */
async function project(t: Parameters<typeof tempDir>[0], files: Record<string, string> = {}) {
  const dir = await tempDir(t, 'corpus-kit-api-');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const base: Options = { env: {}, pillar: { data_root: join(dir, 'data') } };
  const run = async (task: string, argv: readonly string[] = [], options: Options = {}) => {
    let out = '';
    let err = '';
    const tasks = await createTasks({ cwd: dir, userDir: dir, ...base, argv: [task, ...argv], ...options, logger: { out: (s) => void (out += s), err: (s) => void (err += s) } });
    const error = await (tasks[task] ?? (() => Promise.reject(new Error(`no task ${task}`))))().then(() => undefined, (e: Error) => e);
    return { out, err, error, tasks };
  };
  return { dir, run };
}

test('createTasks without cwd fails saying what to pass', async (t) => {
  const error = await t.throwsAsync(createTasks({} as CreateTasksOptions));
  t.regex(error.message, /createTasks\(options\): options\.cwd is required: the project folder \(import\.meta\.dirname in your gulpfile\)/);
});

test('registerTasks given the promise of a forgotten await, or an undefined task, fails saying so and registers nothing', async (t) => {
  const registered: string[] = [];
  const gulp = { task: (name: string) => void registered.push(name) };
  const pending = createTasks({ cwd: await tempDir(t), env: {}, logger: { err: () => {} } });
  const forgotten = t.throws(() => registerTasks(gulp, pending as unknown as Record<string, GulpTask>));
  t.regex(forgotten.message, /tasks is a Promise; write `await createTasks\(\.\.\.\)`/);
  await pending;
  const undefinedTask = t.throws(() => registerTasks(gulp, { deploy: undefined }));
  t.is(undefinedTask.message, 'registerTasks(gulp, tasks): task "deploy" is undefined, not a task function');
  t.deepEqual(registered, []);
});

test('precedence: defaults < code pillar < pillarFiles < pillar/local.yml < PILLAR < --pillar', async (t) => {
  const { run } = await project(t, {
    'code.yml': 'project: fromcodefile\ndomain: codefile.example.com\nforce_ssl: true\n',
    'pillar/local.yml': 'project: fromlocal\ndomain: local.example.com\n',
    'env.yml': 'project: fromenv\n',
    'cli.yml': 'project: b\n',
  });
  const show = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await run('pillar:show', argv, { env, pillarFiles: ['code.yml'], pillar: { project: 'a', user: 'fromcode', domain: 'code.example.com', force_ssl: false } });
    if (r.error) throw r.error;
    return parse(r.out) as { project: string; user: string; domain: string; force_ssl: boolean };
  };
  const cli = await show(['--pillar', 'cli.yml'], { PILLAR: 'env.yml' });
  t.is(cli.project, 'b');
  t.is(cli.user, 'fromcode');
  t.is(cli.domain, 'local.example.com');
  t.true(cli.force_ssl);
  t.is((await show([], { PILLAR: 'env.yml' })).project, 'fromenv');
  t.is((await show([])).project, 'fromlocal');
});

test('a problem in the code pillar is named as coming from the caller\'s code', async (t) => {
  const { run } = await project(t);
  const { error } = await run('pillar:check', [], { pillar: [{ ports: { http: 'eighty' as unknown as number } }] });
  t.regex(error?.message ?? '', /ports\.http \(from createTasks\(\{ pillar \}\) in your code\): expected/);
});

test('flags: an unknown one fails with a did-you-mean, a missing value names the flag, a flag of another task is refused', async (t) => {
  const { run } = await project(t);
  t.is((await run('pillar:check', ['--pilar', 'x.yml'])).error?.message, 'unknown flag --pilar (did you mean --pillar?)');
  t.is((await run('pillar:check', ['--pillar'])).error?.message, '--pillar needs a value: --pillar FILE');
  t.is((await run('pillar:check', ['--pillar', '--no-respawning'])).error?.message, '--pillar needs a value: --pillar FILE');
  t.is((await run('pillar:check', ['--only', 'registry'])).error?.message, '--only is not a flag of pillar:check (flags: --pillar, --verbose, --quiet)');
  t.is((await run('publish', ['--target', 'ftp'])).error?.message, '--target: expected local or github, got "ftp"');
  t.is((await run('pillar:check', ['--verbose=yes'])).error?.message, '--verbose takes no value (given "yes")');
});

test('flags: gulp-cli\'s own options pass, with or without their values', async (t) => {
  const { run } = await project(t);
  const gulpCli = ['--no-respawning', '--series', '--continue', '--color', '--no-color', '--cwd', '/x', '--gulpfile=/x/gulpfile.js', '--tasks-depth', '2', '-LLL', '--preload', 'x', '-f', '/x/gulpfile.js'];
  const { error, err } = await run('pillar:check', gulpCli);
  t.is(error, undefined);
  t.regex(err, /pillar OK/);
  t.is((await run('pillar:check', ['--silent'])).err, '', '--silent quiets the kit too');
});

test('a relative --pillar path starts from the folder the user ran the command in', async (t) => {
  const { dir, run } = await project(t, { 'ops/p.yml': 'project: fromops\n' });
  const { out, error } = await run('pillar:show', ['--pillar', 'p.yml'], { userDir: join(dir, 'ops') });
  t.is(error, undefined);
  t.is((parse(out) as { project: string }).project, 'fromops');
});

test('a plugin task\'s flags and a consumer task\'s flags reach the task parsed and validated', async (t) => {
  const { dir, run } = await project(t);
  const seen: unknown[] = [];
  const counter = definePlugin({
    name: 'counter',
    setup(host) {
      host.addTask({
        name: 'counter:run',
        description: 'count',
        flags: { '--times N': 'how often', '--mode fast|slow': 'speed', '--dry': 'change nothing' },
        run: async (_ctx, flags) => void seen.push(flags),
      });
    },
  });
  const report = defineTask({
    name: 'report',
    description: 'write a report',
    flags: ['only'],
    taskFlags: { out: { value: 'FILE', path: true, help: 'where' } },
    async run(ctx, flags) {
      seen.push({ ...flags, only: ctx.flags.only });
    },
  });
  const options = { plugins: [counter], tasks: [report] };
  t.is((await run('counter:run', ['--times', '3', '--mode=slow', '--dry'], options)).error, undefined);
  t.is((await run('report', ['--out', 'r.txt', '--only', 'registry'], options)).error, undefined);
  t.deepEqual(seen, [{ times: '3', mode: 'slow', dry: true }, { out: join(dir, 'r.txt'), only: ['registry'] }]);
  t.is((await run('counter:run', ['--mode', 'warp'], options)).error?.message, '--mode: expected fast or slow, got "warp"');
  t.is((await run('counter:run', ['--times'], options)).error?.message, '--times needs a value: --times N');
  t.is((await run('counter:run', ['--tims', '3'], options)).error?.message, 'unknown flag --tims (did you mean --times?)');
  const listed = (await run('report', [], options)).tasks;
  t.deepEqual(listed['counter:run']?.flags, { '--pillar FILE': 'pillar file merged over the defaults (repeatable)', '--verbose': 'log every command (secrets masked)', '--quiet': 'log warnings and errors only', '--times N': 'how often', '--mode fast|slow': 'speed', '--dry': 'change nothing' });
});

test('plugins:show lists every process, route, file and task with its owner', async (t) => {
  const { run } = await project(t);
  const extra = definePlugin({
    name: 'extra',
    dependsOn: ['nginx'],
    setup(host) {
      host.addProcess({ name: 'extrad', command: ['extrad', '--port=9000'] });
      host.addRoute({ prefix: '/extra/', upstream: { host: '127.0.0.1', port: 9000 } });
      host.addFile({ path: 'extra/extra.conf', content: 'x', mode: 0o640 });
      host.addTask({ name: 'extra:ping', description: 'Ping extrad', run: async () => {} });
    },
  });
  const { out, error } = await run('plugins:show', [], { plugins: [extra] });
  t.is(error, undefined);
  t.regex(out, /^ {2}extra +after nginx$/m);
  t.regex(out, /^ {2}extrad +extra +extrad --port=9000$/m);
  t.regex(out, /^ {2}registry +registry +\S*registry serve /m);
  t.regex(out, /^ {2}\/extra\/ +extra +-> 127\.0\.0\.1:9000$/m);
  t.regex(out, /^ {2}extra\/extra\.conf +extra +mode 640$/m);
  t.regex(out, /^ {2}extra:ping +extra +Ping extrad$/m);
  t.regex(out, /^routes \(3\):$/m);
});

test('a bad pillar hides plugin tasks with a warning naming its first problem and the command that shows all', async (t) => {
  const { dir } = await project(t, { 'bad.yml': 'ports: {http: eighty, https: -1}\n' });
  let err = '';
  await createTasks({ cwd: dir, env: {}, argv: ['--pillar', join(dir, 'bad.yml')], logger: { err: (s) => void (err += s) } });
  t.regex(err, /^warning: plugin tasks are not listed: ports\.(http|https) \(from .*bad\.yml\): expected .* \(and 1 more\); run `gulp pillar:check` to see every problem\n$/);
});
