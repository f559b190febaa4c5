// Another project uses corpus-kit as the README says: a fresh `npm init -y`
// project installs the packed tarball and gulp, writes the README's files, and
// runs its own gulp-cli. One project per README variant: plain JavaScript (no
// tsx anywhere) and TypeScript through tsx.
import test from 'ava';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { consumerProject, npm, type ConsumerProject } from './helpers/consumer-project.ts';
import { freePort } from './helpers/render-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';

/** gulp-cli's loader and respawn chatter, which no command may print. */
const LOADER_LINES = /Loaded external module|Failed to load external module|Node flags detected|Respawned to PID|Working directory changed|ERR_UNKNOWN_FILE_EXTENSION/;

let js: Promise<ConsumerProject>;
let ts: Promise<ConsumerProject>;
test.before(() => {
  js = consumerProject('js');
  // Sequential installs: npm's cache is shared, and the machine has two cores.
  ts = js.then(() => consumerProject('ts', ['tsx', 'typescript@5.9', '@types/node@20', '@types/gulp@4']));
  // Both are awaited by the tests; an install failure fails each of them with npm's output.
  js.catch(() => {});
  ts.catch(() => {});
});

test('the installed package is a copy from the tarball, compiled JavaScript, without tsx; npm install printed no EBADENGINE', async (t) => {
  const project = await js;
  t.false((await lstat(join(project.dir, 'node_modules/corpus-kit'))).isSymbolicLink());
  const pkg = JSON.parse(await readFile(join(project.dir, 'node_modules/corpus-kit/package.json'), 'utf8')) as { exports: Record<string, unknown> };
  t.deepEqual(pkg.exports['.'], { types: './build/index.d.ts', import: './build/index.js' });
  await t.throwsAsync(lstat(join(project.dir, 'node_modules/tsx')));
  t.notRegex(project.installLog, /EBADENGINE/);
});

for (const variant of ['js', 'ts'] as const) {
  const project = () => (variant === 'js' ? js : ts);

  test(`${variant}: gulp --tasks lists the kit's tasks, the plugin's, the consumer's own and its series, without loader lines`, async (t) => {
    const run = await (await project()).gulp(['--tasks']);
    t.is(run.code, 0, run.all);
    t.notRegex(run.all, LOADER_LINES);
    t.is(run.stderr, '');
    for (const name of ['pillar:check', 'pillar:show', 'release', 'plugins:show', 'stamp', 'healthz:url', 'lint', 'ci']) t.regex(run.stdout, new RegExp(`[─┬] ${name}\\s`));
    t.regex(run.stdout, /--scheme http\|https\s+…URL scheme/);
    t.regex(run.stdout, /--label TEXT\s+…text after the project name/);
  });

  test(`${variant}: a series of the consumer's task, the kit's pillar:check and another of its own runs in order`, async (t) => {
    const run = await (await project()).gulp(['ci']);
    t.is(run.code, 0, run.all);
    t.notRegex(run.all, LOADER_LINES);
    t.is(run.stdout, 'lint: ok\nstamp: shop dev\n');
    t.regex(run.stderr, /pillar OK/);
  });

  test(`${variant}: the plugin's task and the consumer's task get their flags parsed and validated`, async (t) => {
    const p = await project();
    const url = await p.gulp(['healthz:url', '--scheme', 'http']);
    t.is(url.code, 0, url.all);
    t.is(url.stdout, 'http://registry.example.com/healthz -> 127.0.0.1:8099\n');
    const stamp = await p.gulp(['stamp', '--label=v2']);
    t.is(stamp.stdout, 'stamp: shop v2\n', stamp.all);
    const bad = await p.gulp(['healthz:url', '--scheme', 'ftp']);
    t.not(bad.code, 0);
    t.regex(bad.stderr, /--scheme: expected http or https, got "ftp"/);
  });
}

test('js: pillar:show writes only YAML on stdout; the file, given relative to a subfolder gulp runs from, passes pillar:check', async (t) => {
  const project = await js;
  const show = await project.gulp(['pillar:show']);
  t.is(show.code, 0, show.all);
  t.notRegex(show.all, LOADER_LINES);
  const pillar = parse(show.stdout) as { project: string; registry: { port: number } };
  t.is(pillar.project, 'shop');
  t.is(pillar.registry.port, 5000);
  const sub = join(project.dir, 'ops');
  await mkdir(sub, { recursive: true });
  await writeFile(join(sub, 'p.yml'), show.stdout);
  const check = await project.gulp(['pillar:check', '--pillar', 'p.yml'], { cwd: sub });
  t.is(check.code, 0, check.all);
  t.regex(check.stderr, new RegExp(`pillar OK \\(2 files: .*, ${join(sub, 'p.yml')}\\)`));
});

test('js: --pillar on the command line wins over the pillar given in code', async (t) => {
  const project = await js;
  await writeFile(join(project.dir, 'b.yml'), 'project: b\n');
  const show = await project.gulp(['pillar:show', '--pillar', 'b.yml']);
  t.is(show.code, 0, show.all);
  t.is((parse(show.stdout) as { project: string }).project, 'b');
});

test('js: a mistyped flag fails with a did-you-mean; --pillar without its value fails naming it', async (t) => {
  const project = await js;
  const typo = await project.gulp(['pillar:check', '--pilar', 'x.yml']);
  t.not(typo.code, 0);
  t.regex(typo.stderr, /unknown flag --pilar \(did you mean --pillar\?\)/);
  const missing = await project.gulp(['pillar:check', '--pillar']);
  t.not(missing.code, 0);
  t.regex(missing.stderr, /--pillar needs a value/);
});

/** `npx tsc` in the project; resolves to its output, or fails with it. */
async function tsc(project: ConsumerProject, args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  return npm(project.dir, ['exec', '--', 'tsc', ...args]).then(
    (r) => ({ ok: true, out: `${r.stdout}${r.stderr}` }),
    (error: Error) => ({ ok: false, out: error.message }),
  );
}

test('ts: tsc --noEmit --strict passes on the README\'s gulpfile and plugin', async (t) => {
  const run = await tsc(await ts, ['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--exactOptionalPropertyTypes', '-p', '.']);
  t.true(run.ok, run.out);
});

test('ts: the kit\'s declarations pass tsc --strict with every library file checked (no skipLibCheck)', async (t) => {
  const strictest = ['--strict', '--noUncheckedIndexedAccess', '--exactOptionalPropertyTypes', '--skipLibCheck', 'false'];
  const run = await tsc(await ts, ['--noEmit', ...strictest, '--module', 'nodenext', '--target', 'es2022', '--allowImportingTsExtensions', '--types', 'node', 'plugins/healthz.ts']);
  t.true(run.ok, run.out);
});

test('js: ca and render run from the installed package, rendering the kit\'s templates for the consumer\'s stack', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd', 'supervisord');
  const project = await js;
  const data = join(project.dir, 'stack');
  const pillar = {
    data_root: data, user: 'nobody', group: 'nogroup',
    ports: { http: await freePort(), https: await freePort() },
    registry: { port: await freePort(), debug_addr: `127.0.0.1:${await freePort()}` },
    auth_server: { port: await freePort() }, redis: { port: await freePort() }, sshd: { host: '127.0.0.1', port: await freePort() },
  };
  await writeFile(join(project.dir, 'stack.yml'), JSON.stringify(pillar));
  const env = { REGISTRY_READONLY_PASSWORD: 'consumer-readonly-password' };
  const run = await project.gulp(['ca', 'render', '--series', '--pillar', 'stack.yml'], { env });
  t.is(run.code, 0, run.all);
  const nginx = await readFile(join(data, 'etc/nginx/nginx.conf'), 'utf8');
  t.regex(nginx, /nginx\/nginx\.conf\.njk/);
  t.regex(nginx, /location \/healthz/);
});
