// Secrets given via .env, via {env: NAME}, as a literal and generated ones never
// reach the output of pillar:show, doctor, or a zx command that uses them (its
// echo, its stdout split across chunks, its stderr, its failure), with
// --verbose on; nor a pillar problem about a value at a secret path.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { createContext } from '../lib/context.ts';
import { Logger } from '../lib/logger.ts';
import { createTasks } from '../tasks/index.ts';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';
import { leaks } from './helpers/secret-forms.ts';
import { tempDir } from './helpers/tmp.ts';

const ECHO_PLUGIN = fileURLToPath(new URL('fixtures/plugins/echo-secrets.ts', import.meta.url));

// Each holds characters that quoting escapes (quote, backslash, $, space).
const DOTENV_SECRET = `dotenv-Pa55 w'ord$HOME"x`;
const ENV_SECRET = 'env-S3cr3t-\\back{slash}';
const LITERAL_SECRET = 'literal-{domain}-pw';
/** A group no machine has: doctor's editor group check fails, so doctor's failure path is taken every run. */
const MISSING_GROUP = 'corpusnogroup';

interface Project {
  dir: string;
  env: NodeJS.ProcessEnv;
  pillarFile: string;
  /** The generated secret, once a task has created it. */
  generated(): Promise<string>;
}

async function project(t: ExecutionContext): Promise<Project> {
  const dir = await tempDir(t);
  const dataRoot = join(dir, 'data');
  await writeFile(join(dir, '.env'), `REGISTRY_READONLY_PASSWORD=${DOTENV_SECRET}\n`);
  const pillarFile = join(dir, 'pillar.yml');
  await writeFile(pillarFile, [
    `data_root: ${dataRoot}`,
    `plugins: [${relative(dir, ECHO_PLUGIN)}]`,
    `editor: {group: ${MISSING_GROUP}, gid: 64999}`,
    'users:',
    '  ops: {password: {env: OPS_PASSWORD}}',
    `  lit: {password: "${LITERAL_SECRET}"}`,
    '',
  ].join('\n'));
  return {
    dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, OPS_PASSWORD: ENV_SECRET },
    pillarFile,
    generated: async () => (await readFile(join(dataRoot, 'secrets', 'users.admin.password'), 'utf8')).trim(),
  };
}

/** Runs tasks in-process with --verbose; returns everything written and every error's message and stack. */
async function runTasks(p: Project, names: string[]): Promise<{ all: string; out: string; failed: string[] }> {
  let all = '';
  let out = '';
  const tasks = await createTasks({
    cwd: p.dir,
    argv: ['--pillar', p.pillarFile, '--verbose'],
    env: p.env,
    logger: { err: (s) => (all += s), out: (s) => ((all += s), (out += s)) },
  });
  const failed: string[] = [];
  for (const name of names) {
    requireTask(tasks, name);
    await tasks[name]!().catch((error: Error) => {
      failed.push(name);
      all += `\n${error.message}\n${error.stack}\n`;
    });
  }
  return { all, out, failed };
}

function requireTask(tasks: Record<string, unknown>, name: string): void {
  if (!tasks[name]) throw new Error(`no task ${name} (tasks: ${Object.keys(tasks).join(', ')})`);
}

function assertNoSecret(t: ExecutionContext, text: string, secrets: string[]) {
  for (const secret of secrets) {
    t.false(text.includes(secret), `secret ${JSON.stringify(secret)} printed`);
    // Halves too: a secret split across output chunks must not get through piecewise.
    const half = Math.floor(secret.length / 2);
    t.false(text.includes(secret.slice(0, half)) && text.includes(secret.slice(half)), `both halves of ${JSON.stringify(secret)} printed`);
  }
}

test('secrets never appear in zx commands, pillar:show, pillar:check or doctor output with --verbose', async (t) => {
  const p = await project(t);
  const { all, out, failed } = await runTasks(p, ['secrets:echo', 'pillar:show', 'pillar:check', 'doctor']);
  t.false(failed.includes('secrets:echo'), all);
  const secrets = [DOTENV_SECRET, ENV_SECRET, LITERAL_SECRET, await p.generated()];
  assertNoSecret(t, all, secrets);
  // The commands did run and echo: six masked command lines (four users' passwords,
  // redis.password and registry.http_secret), six masked stdout lines.
  t.regex(all, /echoed 6 secrets/);
  t.is(all.match(/^\$ sh -c .* sh (?:\$')?\*\*\*'?$/gm)?.length, 6, all);
  t.is(out.match(/^\*\*\*$/gm)?.length ?? 0, 0, 'zx output goes to the log stream, not stdout');
  t.true((all.match(/^\*\*\*$/gm)?.length ?? 0) >= 8, all);
  // pillar:show says what each secret is without its value.
  t.regex(out, /admin:\n\s+password: \(generated\)/);
  t.regex(out, /readonly:\n\s+password:\n\s+env: REGISTRY_READONLY_PASSWORD/);
  t.regex(out, /lit:\n\s+password: "\*\*\*"/);
});

test('a failing command whose argument and message hold a secret fails masked', async (t) => {
  const p = await project(t);
  const { all, failed } = await runTasks(p, ['secrets:fail']);
  t.deepEqual(failed, ['secrets:fail']);
  t.regex(all, /cannot log in with \*\*\*/);
  t.regex(all, /exit code: 3/);
  assertNoSecret(t, all, [await p.generated()]);
});

test('.env values do not override the real environment', async (t) => {
  const p = await project(t);
  const ctx = await createContext({ cwd: p.dir, argv: ['--pillar', p.pillarFile], env: { ...p.env, REGISTRY_READONLY_PASSWORD: 'from-the-environment' }, logger: { err: () => {} } });
  t.is(await ctx.secrets.get('users.readonly.password'), 'from-the-environment');
  const fromDotenv = await createContext({ cwd: p.dir, argv: ['--pillar', p.pillarFile], env: p.env, logger: { err: () => {} } });
  t.is(await fromDotenv.secrets.get('users.readonly.password'), DOTENV_SECRET);
  // A literal secret is taken as written: `{domain}` in a password is no reference.
  t.is(await fromDotenv.secrets.get('users.lit.password'), LITERAL_SECRET);
});

/** Task → whether its run fails: secrets:fail on purpose, doctor on the editor group that does not exist. */
const CLI_RUNS: [string, boolean][] = [['pillar:check', false], ['pillar:show', false], ['secrets:echo', false], ['secrets:fail', true], ['doctor', true]];

test('the real gulp CLI prints no secret in any form (raw, halves, $\'...\', JSON, URL, base64) on any stream of any task, with --verbose', async (t) => {
  const p = await project(t);
  // A consumer project: its gulpfile imports corpus-kit by name.
  await mkdir(join(p.dir, 'node_modules'));
  await symlink(REPO_ROOT, join(p.dir, 'node_modules/corpus-kit'));
  for (const dep of ['gulp', 'tsx']) await symlink(join(REPO_ROOT, 'node_modules', dep), join(p.dir, 'node_modules', dep));
  await writeFile(join(p.dir, 'package.json'), '{"type": "module"}\n');
  await writeFile(join(p.dir, '.gulp.cjs'), "module.exports = { nodeFlags: ['--import=tsx'] };\n");
  await writeFile(join(p.dir, 'gulpfile.ts'), "import gulp from 'gulp';\nimport { createTasks, registerTasks } from 'corpus-kit';\nregisterTasks(gulp, await createTasks({ cwd: import.meta.dirname }));\n");
  const outcomes: Record<string, boolean> = {};
  for (const [task, fails] of CLI_RUNS) {
    const run = await runGulp(p.dir, [task, '--pillar', p.pillarFile, '--verbose'], p.env);
    outcomes[task] = run.code !== 0;
    if (task === 'secrets:echo') t.regex(run.stderr, /echoed 6 secrets/);
    if (task === 'secrets:fail') t.regex(run.all, /cannot log in with \*\*\*/);
    const secrets = { dotenv: DOTENV_SECRET, env: ENV_SECRET, literal: LITERAL_SECRET, generated: await p.generated().catch(() => 'not-generated-yet') };
    for (const [stream, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) t.deepEqual(leaks(text, secrets), [], `${task} ${stream}:\n${text}`);
    t.is(outcomes[task], fails, `${task} exit ${run.code}:\n${run.all}`);
  }
});

// A wrong value at a secret path is usually the secret itself, mistyped.
const BAD_SECRETS: [string, string, string][] = [
  ['a number', 'users: {x: {password: 12345678}}', 'users.x.password'],
  ['a literal shorter than 8 characters', 'users: {x: {password: "hunter2"}}', 'users.x.password'],
  ['a list', 'users: {x: {password: ["hunter2-in-a-list"]}}', 'users.x.password'],
  ['an {env:} with a bad name', 'users: {x: {password: {env: "hunter2 as a name"}}}', 'users.x.password.env'],
  ['an unknown key', 'users: {x: {password: {hunter2-as-a-key: 1}}}', 'users.x.password'],
  ['an extra key beside env', 'users: {x: {password: {env: OK, value: hunter2-beside}}}', 'users.x.password'],
  ['a private key of the wrong type', 'tls: {key: 98765432109}', 'tls.key'],
];

for (const [what, yaml, path] of BAD_SECRETS) {
  test(`a problem at a secret path does not show the value: ${what}`, async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'bad.yml');
    await writeFile(file, `data_root: ${join(dir, 'data')}\n${yaml}\n`);
    let log = '';
    const tasks = await createTasks({ cwd: dir, argv: ['--pillar', file, '--verbose'], env: {}, logger: { err: (s) => (log += s), out: (s) => (log += s) } });
    const error = await t.throwsAsync(tasks['pillar:check']!());
    t.true(error!.message.includes(`  - ${path} (from ${file}): expected `), error!.message);
    t.regex(error!.message, /got a value not shown here \(secret\)/);
    const secret = /(hunter2[\w -]*|\d{8,})/.exec(yaml)![1]!;
    t.false(`${error!.message}${error!.stack}${log}`.includes(secret), error!.message);
  });
}

test('pillar:show masks a private key given as PEM text', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'tls.yml');
  await writeFile(file, `data_root: ${join(dir, 'data')}\ntls:\n  key: |\n    -----BEGIN PRIVATE KEY-----\n    c2VjcmV0LWtleS1tYXRlcmlhbA==\n    -----END PRIVATE KEY-----\n`);
  let out = '';
  let err = '';
  const tasks = await createTasks({ cwd: dir, argv: ['--pillar', file], env: {}, logger: { out: (s) => (out += s), err: (s) => (err += s) } });
  await tasks['pillar:show']!();
  t.regex(out, /key: "\*\*\*"/);
  t.false(out.includes('c2VjcmV0LWtleS1tYXRlcmlhbA'));
  t.false(err.includes('c2VjcmV0LWtleS1tYXRlcmlhbA'));
});

test('a private key given as PEM text is masked in any output, line by line', async (t) => {
  const dir = await tempDir(t);
  const body = 'c2VjcmV0LWtleS1tYXRlcmlhbC1saW5lLW9uZQ==';
  const file = join(dir, 'tls.yml');
  await writeFile(file, `data_root: ${join(dir, 'data')}\ntls:\n  key: |\n    -----BEGIN PRIVATE KEY-----\n    ${body}\n    -----END PRIVATE KEY-----\n`);
  const ctx = await createContext({ cwd: dir, argv: ['--pillar', file, '--verbose'], env: {}, logger: { out: () => {}, err: () => {} } });
  t.is(ctx.log.mask(`key line: ${body}`), 'key line: ***');
  t.is(ctx.log.mask(String(ctx.pillar.tls.key)).includes(body), false);
});

test('each line of a multi-line secret is masked on its own (command output is masked per line)', (t) => {
  const log = new Logger({ out: () => {}, err: () => {} });
  log.addSecret('first-line-of-secret\nsecond-line-of-secret');
  t.is(log.mask('out: second-line-of-secret\n'), 'out: ***\n');
  t.is(log.mask('first-line-of-secret'), '***');
});
