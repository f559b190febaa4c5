// doctor: one OK/FAIL line per prerequisite, each FAIL with its fix, a non-zero
// result when anything fails, and tokens reported as set, never shown.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTasks } from '../index.ts';
import { useGulpCli } from './helpers/build-project.ts';
import { runGulp } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

requireCommands('docker', 'git', 'xz');

/** A group that exists on this machine (gid 0 is not a valid editor gid), with its real gid. */
const [GROUP, GID] = ((fields) => [fields[0]!, Number(fields[2])] as const)(
  readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => Number(f[2]) > 0)!,
);

/** Runs doctor in a new project; `lock`: the corpus.lock.json it holds. */
async function doctor(t: Parameters<typeof tempDir>[0], pillar: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, lock?: string, argv: string[] = []) {
  const cwd = await tempDir(t);
  if (lock !== undefined) await writeFile(join(cwd, 'corpus.lock.json'), lock);
  let out = '';
  let err = '';
  const tasks = await createTasks({
    cwd,
    argv,
    env: { PATH: process.env.PATH, ...env },
    pillar: [{ data_root: join(cwd, 'data'), ...pillar }],
    logger: { out: (s) => void (out += s), err: (s) => void (err += s) },
  });
  const error = await tasks.doctor!().then(() => undefined, (e: Error) => e);
  return { cwd, out, err, error };
}

test('all OK: engine, git, xz, editor group with its gid, token set but not shown, pins', async (t) => {
  const token = 'ghp_doctorTokenValue1234567890';
  const run = await doctor(t, { editor: { group: GROUP, gid: GID } }, { GITHUB_TOKEN: token });
  t.is(run.error, undefined, run.out + run.err);
  for (const name of ['container engine', 'git', 'xz', 'editor group', 'GitHub token', 'pins', 'nginx', 'supervisord', 'redis-server', 'sshd', 'openssl', 'setpriv']) t.regex(run.out, new RegExp(`^OK +${name}: `, 'm'));
  t.regex(run.out, /GitHub token: GITHUB_TOKEN is set/);
  t.false((run.out + run.err).includes(token));
});

test('a setpriv that does not work fails with the util-linux fix (the supervisor starts processes that need secrets through it)', async (t) => {
  const bin = await tempDir(t, 'corpus-kit-doctor-bin-');
  await writeFile(join(bin, 'setpriv'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const run = await doctor(t, { editor: { group: GROUP, gid: GID } }, { PATH: `${bin}:${process.env.PATH}` });
  t.truthy(run.error);
  t.regex(run.out, /^FAIL +setpriv: setpriv not found or not working/m);
  t.regex(run.out + run.err, /apt-get install util-linux/);
});

test('a missing editor group fails with the groupadd fix, naming the gid', async (t) => {
  const run = await doctor(t, { editor: { group: 'nosuchgroupxyz', gid: 65753 } });
  t.regex(run.out, /^FAIL editor group: group "nosuchgroupxyz" does not exist\n +fix: groupadd -g 65753 nosuchgroupxyz/m);
  t.regex(run.error?.message ?? '', /^doctor: 1 check failed: editor group$/);
});

test('an editor group with another gid fails and says both gids', async (t) => {
  const run = await doctor(t, { editor: { group: GROUP, gid: 65753 } });
  t.regex(run.out, new RegExp(`^FAIL editor group: group "${GROUP}" has gid ${GID}, the pillar says 65753`, 'm'));
  t.regex(run.error?.message ?? '', /^doctor: 1 check failed: editor group$/);
});

test('GH_USER/GH_PASSWORD fail with the token explanation, the password never shown', async (t) => {
  const password = 'hunter2-old-password';
  const run = await doctor(t, { editor: { group: GROUP, gid: GID } }, { GH_USER: 'someone', GH_PASSWORD: password });
  t.regex(run.out, /^FAIL GitHub token: GH_USER\/GH_PASSWORD are set/m);
  t.regex(run.error?.message ?? '', /^doctor: 1 check failed: GitHub token$/);
  t.false((run.out + run.err + (run.error?.stack ?? '')).includes(password));
});

test('a github target without a token fails with the fix', async (t) => {
  const run = await doctor(t, { editor: { group: GROUP, gid: GID }, publish: { target: 'github' } });
  t.regex(run.out, /^FAIL GitHub token: publish.target is github but neither GITHUB_TOKEN nor GH_TOKEN is set.*\n +fix: export GITHUB_TOKEN/m);
  t.regex(run.error?.message ?? '', /^doctor: 1 check failed: GitHub token$/);
});

test('pins that differ from corpus.lock.json fail with the re-lock fix', async (t) => {
  const lock = JSON.stringify({ schema: 1, binaries: { registry: { ref: 'v2.8.2', commit: 'a'.repeat(40) } } });
  const run = await doctor(t, { editor: { group: GROUP, gid: GID } }, {}, lock);
  t.regex(run.error?.message ?? '', /1 check failed: pins/);
  t.regex(run.out, /^FAIL pins: pillar pins differ from corpus.lock.json: registry v2.8.2 -> v2.8.3/m);
});

test('an unreadable corpus.lock.json fails the pins check with the fix', async (t) => {
  const run = await doctor(t, { editor: { group: GROUP, gid: GID } }, {}, '{"binaries": {"registry": {"ref": "v2.8.3"}}}');
  t.regex(run.error?.message ?? '', /1 check failed: pins/);
  t.regex(run.out, /^FAIL pins: \S*corpus\.lock\.json: not a corpus lock file \(binaries\.registry: expected \{ref, commit\}\).*\n +fix: delete it and run `gulp fetch`/m);
});

interface DoctorJson {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

test('--json prints only {ok, checks} on stdout, each check with name, ok and detail, the token never in it', async (t) => {
  const token = 'ghp_doctorJsonToken1234567890';
  const run = await doctor(t, { editor: { group: 'nosuchgroupxyz', gid: 65753 } }, { GITHUB_TOKEN: token }, undefined, ['--json']);
  const report = JSON.parse(run.out) as DoctorJson;
  t.false(report.ok);
  t.deepEqual(report.checks.slice(0, 6).map((c) => c.name), ['container engine', 'git', 'xz', 'editor group', 'GitHub token', 'pins']);
  for (const check of report.checks) t.deepEqual(Object.keys(check).filter((k) => !['name', 'ok', 'detail', 'fix'].includes(k)), [], check.name);
  const group = report.checks.find((c) => c.name === 'editor group');
  t.deepEqual(group, { name: 'editor group', ok: false, detail: 'group "nosuchgroupxyz" does not exist', fix: 'groupadd -g 65753 nosuchgroupxyz && gpasswd -a "$(whoami)" nosuchgroupxyz' });
  t.is(report.checks.find((c) => c.name === 'GitHub token')?.detail, 'GITHUB_TOKEN is set');
  t.regex(run.error?.message ?? '', /^doctor: 1 check failed: editor group$/);
  t.false((run.out + run.err).includes(token));
});

test('gulp doctor --json: stdout is exactly the JSON, gulp\'s and the kit\'s lines on stderr, exit 1 when a check fails', async (t) => {
  const cwd = await tempDir(t);
  await useGulpCli(cwd);
  await writeFile(join(cwd, 'pillar.yml'), JSON.stringify({ data_root: join(cwd, 'data'), editor: { group: 'nosuchgroupxyz', gid: 65753 } }));
  const failing = await runGulp(cwd, ['doctor', '--json', '--pillar', 'pillar.yml'], { PATH: process.env.PATH });
  t.is(failing.code, 1, failing.all);
  const report = JSON.parse(failing.stdout) as DoctorJson;
  t.false(report.ok);
  t.true(report.checks.some((c) => c.name === 'editor group' && !c.ok));
  t.regex(failing.stderr, /doctor: 1 check failed: editor group/);

  await writeFile(join(cwd, 'pillar.yml'), JSON.stringify({ data_root: join(cwd, 'data'), editor: { group: GROUP, gid: GID } }));
  const passing = await runGulp(cwd, ['doctor', '--json', '--pillar', 'pillar.yml'], { PATH: process.env.PATH });
  const all = JSON.parse(passing.stdout) as DoctorJson;
  t.is(passing.code, all.ok ? 0 : 1, passing.all);
  t.true(all.checks.find((c) => c.name === 'editor group')?.ok);
});
