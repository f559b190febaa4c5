// Another project imports the library through its package name, adds a plugin of
// its own, and uses the real gulp CLI: its tasks list and run.
import test from 'ava';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';
import { tempDir } from './helpers/tmp.ts';

async function consumerProject(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t, 'corpus-consumer-');
  await cp(join(REPO_ROOT, 'test/fixtures/consumer'), dir, { recursive: true });
  // What `npm install corpus-kit` gives: the package, and gulp/tsx beside it.
  await mkdir(join(dir, 'node_modules'));
  await symlink(REPO_ROOT, join(dir, 'node_modules/corpus-kit'));
  for (const dep of ['gulp', 'tsx']) await symlink(join(REPO_ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
  await mkdir(join(dir, 'pillar'));
  await writeFile(join(dir, 'pillar/local.yml'), `data_root: ${join(dir, 'data')}\nplugins_config: {healthz: {port: 8123}}\n`);
  return dir;
}

test('gulp --tasks in a consumer project lists the kit tasks and the plugin task, with no errors', async (t) => {
  const dir = await consumerProject(t);
  const run = await runGulp(dir, ['--tasks']);
  t.is(run.code, 0, run.all);
  t.is(run.stderr, '');
  for (const name of ['pillar:check', 'pillar:show', 'pillar:schema', 'doctor', 'healthz:routes']) t.regex(run.stdout, new RegExp(`${name}\\s`));
  t.regex(run.stdout, /List the proxy routes of this image/);
  t.regex(run.stdout, /--pillar FILE/);
});

test('a consumer task sees its plugin routes and options next to the built-in ones', async (t) => {
  const dir = await consumerProject(t);
  const run = await runGulp(dir, ['healthz:routes']);
  t.is(run.code, 0, run.all);
  t.regex(run.stdout, /^\/healthz -> 127\.0\.0\.1:8123 \(healthz\)$/m);
  t.regex(run.stdout, /^\/v2\/ -> 127\.0\.0\.1:5000 \(registry\)$/m);
  t.regex(run.stdout, /^\/docker_auth_service\/ -> 127\.0\.0\.1:5004 \(docker-auth\)$/m);
});

test('the consumer pillar override and local.yml reach pillar:show', async (t) => {
  const dir = await consumerProject(t);
  const run = await runGulp(dir, ['pillar:show']);
  t.is(run.code, 0, run.all);
  t.regex(run.stdout, /^project: consumer$/m);
  t.regex(run.stdout, new RegExp(`^data_root: ${join(dir, 'data')}$`, 'm'));
});
