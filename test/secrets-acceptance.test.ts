// Issue 7's secrets acceptance: for a set of secrets (ASCII with quoting
// characters, multi-byte, regex metacharacters, 4 KiB, a multi-line PEM key,
// URL credentials of an http mirror and a file:// source, the GitHub token),
// the stdout and stderr of every task run through the real gulp CLI, with and
// without --verbose (pillar:check, pillar:show, doctor, a plugin's tasks,
// pins:outdated, fetch and its failure path, compile's failure path,
// publish --dry-run), every error, every file the kit writes outside
// {data_root}/secrets/, and the argv of every process sampled from /proc while
// the runs go on, are free of every form of each secret (test/helpers/secret-forms.ts).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { buildProject, LDFLAGS, useGulpCli, type BuildProject } from './helpers/build-project.ts';
import { GitHubEmulator } from './helpers/github/emulator.ts';
import { REPO, TAG } from './helpers/github/project.ts';
import { writeReleaseDir } from './helpers/github/release-dir.ts';
import { UpstreamRepo } from './helpers/gitrepo.ts';
import { runGulp, type GulpRun } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { leaks } from './helpers/secret-forms.ts';

requireCommands('git', 'docker');

const ECHO_PLUGIN = fileURLToPath(new URL('fixtures/plugins/echo-secrets.ts', import.meta.url));
const id = randomBytes(4).toString('hex');
const pemBody = Array.from({ length: 6 }, () => randomBytes(48).toString('base64'));

const SECRETS: Record<string, string> = {
  ascii: `ascii-Pa55 w'ord$HOME"x\\-${id}`,
  multibyte: `ΩΩΩΩ-pässwörd-€😀-${id}`,
  regex: `re.*+?^\${}()|[]\\d-${id}`,
  big: randomBytes(3072).toString('base64url'), // 4 KiB of text
  pem: ['-----BEGIN PRIVATE KEY-----', ...pemBody, '-----END PRIVATE KEY-----'].join('\n'),
  readonly: `readonly-Pa55-${id}`,
  mirrorUser: `mirror-bot-${id}`,
  mirrorToken: `mirror-T0k/en@${id}`,
  sourceToken: `file-T0ken-${id}`,
  github: `ghp_Acceptance${id}T0ken`,
};

/** Pillar files and .env are the test's own input, written with the secrets on purpose. */
const INPUTS = new Set(['secrets.json', 'unreachable.json', '.env']);

interface Fixture {
  project: BuildProject;
  env: NodeJS.ProcessEnv;
  /** Authorization headers the http mirror received. */
  authorizations: string[];
  /** Every command line seen in /proc while the runs went on. */
  argv: Set<string>;
  /** Every git and docker command line, as recorded by wrappers on PATH (complete, where sampling may miss one). */
  wrapperLog: string;
  stopSampling(): void;
}

let fixture: Fixture | undefined;
const teardowns: (() => unknown)[] = [];

/** Reads every process's command line every few ms, until stopped. */
function sampleCommandLines(into: Set<string>): () => void {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      for (const pid of await readdir('/proc').catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue;
        const line = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (line) into.add(line.split('\0').join(' ').trim());
      }
      await new Promise((done) => setTimeout(done, 5));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}

async function setUp(): Promise<Fixture> {
  const project = await buildProject({ teardown: (fn) => teardowns.push(fn) }, { names: ['vendored'] });
  // A source that does not compile: compile's failure path.
  const brokenDir = join(project.cwd, 'broken-src');
  await mkdir(brokenDir);
  await writeFile(join(brokenDir, 'go.mod'), 'module example.com/broken\n\ngo 1.19\n');
  await writeFile(join(brokenDir, 'main.go'), 'package main\n\nfunc main() { this is not go }\n');
  const broken = await UpstreamRepo.create(join(project.cwd, 'upstream'), 'broken', brokenDir);
  broken.tag('v1.0.0');

  // An http mirror that takes its time, then has nothing: git is sampled while it waits.
  const authorizations: string[] = [];
  const mirror = createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    setTimeout(() => res.writeHead(404).end('no such repository\n'), 400);
  });
  await new Promise<void>((done) => mirror.listen(0, '127.0.0.1', done));
  teardowns.push(() => new Promise((done) => mirror.close(done)));
  const mirrorUrl = `http://${SECRETS.mirrorUser}:${encodeURIComponent(SECRETS.mirrorToken!)}@127.0.0.1:${(mirror.address() as AddressInfo).port}`;

  const emulator = await GitHubEmulator.start({ token: SECRETS.github! });
  teardowns.push(() => emulator.stop());

  const { cwd } = project;
  await useGulpCli(cwd);
  await writeReleaseDir(join(cwd, 'dist/release'));
  await writeFile(join(cwd, '.env'), `A_PASSWORD=\`${SECRETS.ascii}\`\n`); // backticks: the value holds both quotes
  const fileUrl = (bare: string) => `file://src-${id}:${SECRETS.sourceToken}@${bare}`;
  const build = { builder: { recipe: 'golang-bookworm' }, ldflags: LDFLAGS, package: '.' };
  // JSON is YAML: every secret written exactly, newlines and quotes included.
  await writeFile(join(cwd, 'secrets.json'), JSON.stringify({
    data_root: join(cwd, 'data'),
    plugins: [relative(cwd, ECHO_PLUGIN)],
    editor: { group: 'corpusnogroup', gid: 64999 }, // no such group: doctor's failure path every run
    users: {
      a: { password: { env: 'A_PASSWORD' } },
      b: { password: SECRETS.multibyte },
      c: { password: { env: 'C_PASSWORD' } },
      d: { password: { env: 'D_PASSWORD' } },
    },
    tls: { key: SECRETS.pem },
    binaries: {
      registry: { enabled: false },
      auth_server: { enabled: false },
      vendored: { source: { git: fileUrl(project.upstream.vendored!.bare), mirror: `${mirrorUrl}/vendored.git`, ref: 'v1.0.0' }, build },
      broken: { source: { git: fileUrl(broken.bare), ref: 'v1.0.0' }, build },
    },
    publish: { target: 'github', github: { repo: REPO, tag: TAG, base_url: emulator.baseUrl } },
  }));
  await writeFile(join(cwd, 'unreachable.json'), JSON.stringify({ binaries: { vendored: { source: { git: `${mirrorUrl}/gone.git`, mirror: null } } } }));
  // git and docker wrappers on PATH that record each command line, then run the real command.
  const wrappers = await mkdtemp(join(tmpdir(), 'corpus-kit-argv-'));
  teardowns.push(() => rm(wrappers, { recursive: true, force: true }));
  const wrapperLog = join(wrappers, 'argv.log');
  for (const command of ['git', 'docker']) {
    const real = execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' }).trim();
    await writeFile(join(wrappers, command), `#!/bin/sh\nprintf '%s\\n' "${command} $*" >> '${wrapperLog}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  }
  const env = {
    ...project.env,
    PATH: `${wrappers}:${project.env.PATH}`,
    C_PASSWORD: SECRETS.regex,
    D_PASSWORD: SECRETS.big,
    REGISTRY_READONLY_PASSWORD: SECRETS.readonly,
    GITHUB_TOKEN: SECRETS.github,
  };
  const argv = new Set<string>();
  const stopSampling = sampleCommandLines(argv);
  teardowns.push(stopSampling);
  return { project, env, authorizations, argv, wrapperLog, stopSampling };
}

test.before(async () => {
  fixture = await setUp();
});

test.after.always(async () => {
  for (const fn of teardowns.reverse()) await fn();
});

/** [task arguments, whether the run fails]: every task, and the failure paths of fetch, compile and doctor. */
const RUNS: [string[], boolean][] = [
  [['pillar:check'], false],
  [['pillar:show'], false],
  [['doctor'], true], // the editor group does not exist
  [['secrets:echo'], false], // a plugin's task: every secret through zx
  [['secrets:fail'], true], // a plugin's task failing with a secret in its command and message
  [['pins:outdated'], false],
  [['fetch'], false], // the http mirror fails (404), the file:// source serves
  [['fetch', '--pillar', 'unreachable.json'], true],
  [['compile'], true], // vendored compiles, broken does not
  [['publish', '--dry-run'], false],
];

async function runAll(verbose: boolean): Promise<{ run: string; failed: boolean; result: GulpRun }[]> {
  const { project, env } = fixture!;
  const results = [];
  for (const [args] of RUNS) {
    const argv = [args[0]!, '--pillar', 'secrets.json', ...args.slice(1), ...(verbose ? ['--verbose'] : [])];
    const result = await runGulp(project.cwd, argv, env);
    results.push({ run: argv.join(' '), failed: result.code !== 0, result });
  }
  return results;
}

/** Every secret, the generated one included once a run made it. */
async function allSecrets(): Promise<Record<string, string>> {
  const generated = await readFile(join(fixture!.project.cwd, 'data/secrets/users.admin.password'), 'utf8').then((s) => s.trim(), () => undefined);
  return generated ? { ...SECRETS, generated } : SECRETS;
}

for (const verbose of [false, true]) {
  test.serial(`no secret in any form on any stream of any task${verbose ? ', with --verbose' : ''}; the expected runs fail`, async (t) => {
    const results = await runAll(verbose);
    const secrets = await allSecrets();
    t.truthy(secrets.generated, 'secrets:echo generated the admin password');
    for (const [i, { run, failed, result }] of results.entries()) {
      for (const [stream, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
        t.deepEqual(leaks(text, secrets), [], `${run}: ${stream}\n${text}`);
      }
      t.is(failed, RUNS[i]![1], `${run} exit ${result.code}\n${result.all}`);
    }
    // The runs did what their failure paths need: the mirror was asked with credentials, compile reached the compiler.
    const byRun = new Map(results.map(({ run, result }) => [run, result.all]));
    t.regex(byRun.get(`secrets:echo --pillar secrets.json${verbose ? ' --verbose' : ''}`)!, /echoed 8 secrets/); // users a-d, admin, readonly, redis.password, registry.http_secret
    const compile = byRun.get(`compile --pillar secrets.json${verbose ? ' --verbose' : ''}`)!;
    t.regex(compile, /\[broken\] go build .*: FAILED: exit 2/, compile);
    t.true(fixture!.authorizations.some((header) => header.startsWith('Basic ')), fixture!.authorizations.join('\n'));
  });
}

test.serial('no file the kit wrote outside {data_root}/secrets holds a secret, nor any command line sampled while it ran', async (t) => {
  if (fixture!.argv.size === 0) await runAll(false);
  fixture!.stopSampling();
  const secrets = await allSecrets();
  const { cwd } = fixture!.project;
  const found: string[] = [];
  let scanned = 0;
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const name = relative(cwd, path);
      if (name === 'data/secrets' || name === 'node_modules' || INPUTS.has(name) || entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        scanned++;
        for (const leak of leaks((await readFile(path)).toString('latin1'), secrets)) found.push(`${name}: ${leak}`);
        for (const leak of leaks((await readFile(path)).toString('utf8'), secrets)) found.push(`${name}: ${leak}`);
      }
    }
  };
  await walk(cwd);
  t.true(scanned > 10, `only ${scanned} files`);
  t.deepEqual([...new Set(found)], []);
  // The sampling saw the processes that matter: git asking the credentialed http mirror (which answers slowly), and the engine.
  const lines = [...fixture!.argv];
  t.true(lines.some((line) => /\bgit\b.*ls-remote.*http:\/\/127\.0\.0\.1:\d+\/vendored\.git/.test(line)), 'git ls-remote of the http mirror was sampled');
  // The wrapper execs the real CLI by its path ('/usr/bin/docker start -a ...' while a build runs).
  t.true(lines.some((line) => /^\S*\/docker (create|start|run|cp|volume|image) /.test(line)), 'the engine CLI was sampled');
  // The wrappers recorded every git and docker command line: the file:// and http sources were given without credentials.
  const recorded = await readFile(fixture!.wrapperLog, 'utf8');
  t.deepEqual(leaks(recorded, secrets), [], recorded);
  t.regex(recorded, /^git .*ls-remote .*file:\/\/\/\S+\/vendored\.git/m);
  t.regex(recorded, /^git .*fetch .*file:\/\/\/\S+\/broken\.git/m);
  t.regex(recorded, /^git .*ls-remote .*http:\/\/127\.0\.0\.1:\d+\/vendored\.git/m);
  t.regex(recorded, /^docker create /m);
  // The echo-secrets plugin passes secrets as arguments on purpose (that is its test): its commands, and zx's
  // bash running them (bash -c 'sh -c ... SECRET'), are set apart; every other command line is the kit's.
  const kits = lines.filter((line) => !line.includes('half=$((${#1} / 2))') && !line.includes('cannot log in with $1'));
  t.true(kits.length < lines.length, 'the plugin commands were sampled and set apart');
  t.deepEqual(kits.filter((line) => leaks(line, secrets).length > 0).map((line) => `${leaks(line, secrets).join(', ')}: ${line.slice(0, 300)}`), []);
});
