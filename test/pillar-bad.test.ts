// The bad-input corpus: every pillar under test/fixtures/pillar-bad/ must fail
// pillar:check naming the key path (and the file it came from), say what is
// wrong, and write nothing — run in-process through createTasks, plus a few
// through the real gulp CLI for the exit code and a clean error line.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { MAX_PILLAR_BYTES } from '../pillar/loader.ts';
import { createTasks } from '../tasks/index.ts';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';
import { tempDir } from './helpers/tmp.ts';

const CORPUS = fileURLToPath(new URL('fixtures/pillar-bad/', import.meta.url));
const DOMAIN = 'expected domain name';
const PATH = 'expected absolute path';
const REF = 'branch names are refused';
const SAFE = 'expected text without ; { } quotes, backslash, $ or control characters';

/** fixture → [key path as the message names it, a fragment of that problem's line]. */
const EXPECTED: Record<string, [string, string]> = {
  'acl-action-brace': ['acl.0.actions.0', SAFE],
  'acl-comment-tab': ['acl.0.comment', SAFE],
  'alias-bomb': ['(pillar)', 'at most 100 alias expansions'],
  'alias-newline': ['server_aliases.1', DOMAIN],
  'alias-quote': ['server_aliases.0', DOMAIN],
  'base-url-javascript': ['publish.github.base_url', 'http(s) URL, got "javascript:alert(1)"'],
  'binary-name-key': ['binaries.evil;rm', 'a key that is a process name'],
  'build-dir-dotdot': ['binaries.auth_server.build.dir', 'Go package path or relative directory, got "../../etc"'],
  'build-package-semicolon': ['binaries.registry.build.package', 'Go package path'],
  'build-tags-semicolon': ['binaries.registry.build.tags.0', 'Go build tag'],
  'builder-image-space': ['binaries.auth_server.build.builder.image', 'container image reference'],
  'data-root-dollar': ['data_root', PATH],
  'data-root-dotdot': ['data_root', PATH],
  'data-root-relative': ['data_root', PATH],
  'debug-addr-semicolon': ['registry.debug_addr', 'expected host:port'],
  'domain-closing-brace': ['domain', DOMAIN],
  'domain-semicolon': ['domain', DOMAIN],
  'duplicate-key': ['users.admin', 'key "admin" more than once'],
  'editor-group-quote': ['editor.group', 'unix user or group name'],
  'engine-semicolon': ['engine', 'container engine command'],
  'git-url-ext': ['binaries.registry.source.git', 'git URL'],
  'git-url-semicolon': ['binaries.registry.source.git', 'git URL'],
  'image-dev-tag-newline': ['image.dev_tag', 'expected tag name'],
  'image-name-upper': ['image.name', 'image repository name'],
  'images-backslash': ['registry.images', PATH],
  'invalid-yaml': ['(pillar)', 'expected valid YAML, got Flow sequence'],
  'issuer-dollar': ['auth.token.issuer', SAFE],
  'ldflags-placeholder': ['binaries.registry.build.ldflags', 'unknown key {tag}'],
  'ldflags-quote': ['binaries.registry.build.ldflags', '{version} and {commit} are filled in'],
  'mirror-dollar': ['binaries.registry.source.mirror', 'git URL'],
  'missing-binary-source': ['binaries.extra.source', 'expected key "source"'],
  'multi-document': ['(pillar)', 'multiple documents'],
  'package-dir-space': ['package.dir', 'no spaces'],
  'plugin-specifier-semicolon': ['plugins.0', 'relative path or package name'],
  'port-range': ['ports.https', 'expected TCP port, got 70000'],
  'port-string': ['ports.http', 'expected TCP port'],
  'project-semicolon': ['project', 'process name'],
  'proto-key': ['__proto__', 'unknown key "__proto__"'],
  'realm-quote': ['auth.token.realm', 'http(s) URL'],
  'redis-host-space': ['redis.host', 'host name or IP address'],
  'ref-main': ['binaries.registry.source.ref', REF],
  'ref-master': ['binaries.auth_server.source.ref', REF],
  'ref-option': ['binaries.registry.source.ref', REF],
  'ref-refs-heads': ['binaries.registry.source.ref', REF],
  'reference-cycle': ['domain', 'got {domain} -> {auth.token.issuer} -> {domain}'],
  'reference-cycle-three': ['project', 'got {project} -> {user} -> {group} -> {project}'],
  'reference-to-secret': ['auth.token.realm', '{users.admin.password} is a secret'],
  'repo-no-slash': ['publish.github.repo', 'OWNER/NAME'],
  'tag-semicolon': ['publish.github.tag', 'expected tag name'],
  'tls-cert-not-pem': ['tls.cert', 'PEM text'],
  'top-scalar': ['(pillar)', 'a mapping of pillar keys at the top level, got string'],
  'top-sequence': ['(pillar)', 'a mapping of pillar keys at the top level, got a sequence'],
  'unknown-builder-key': ['binaries.registry.build.builder.recipee', 'did you mean "recipe"?'],
  'unknown-nested-key': ['binaries.registry.source.reff', 'did you mean "ref"?'],
  'unknown-reference': ['registry.images', 'unknown key {data_rot}, did you mean "data_root"?'],
  'unknown-top-key': ['registy', 'did you mean "registry"?'],
  'unknown-user-key': ['users.admin.pasword', 'did you mean "password"?'],
  'user-dollar': ['user', 'unix user or group name'],
  'user-name-key': ['users.bob;root', 'a key that is a unix user or group name'],
  'wrong-enum-auth-mode': ['auth.mode', 'expected "token" | "htpasswd", got "ldap"'],
  'wrong-range-gid': ['editor.gid', 'unix group id, got 0'],
  'wrong-range-xz-level': ['package.xz_level', 'integer from 0 to 9, got 12'],
  'wrong-type-aliases': ['server_aliases', 'expected a list'],
  'wrong-type-force-ssl': ['force_ssl', 'expected boolean, got "yes"'],
};

/** Every file under dir, relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

/**
 * A project whose data_root is inside it, so "writes nothing" is checkable;
 * the bad file is merged after it, so a bad data_root still wins.
 */
async function project(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'base.yml'), `data_root: ${join(dir, 'data')}\n`);
  return dir;
}

async function checkInProcess(dir: string, file: string) {
  let log = '';
  const tasks = await createTasks({
    cwd: dir,
    argv: ['--pillar', join(dir, 'base.yml'), '--pillar', file, '--verbose'],
    env: { PATH: process.env.PATH },
    logger: { err: (s) => (log += s), out: (s) => (log += s) },
  });
  const error = await tasks['pillar:check']!().then(() => undefined, (e: unknown) => e as Error);
  return { error, log };
}

function assertProblem(t: import('ava').ExecutionContext, message: string, file: string, [path, fragment]: [string, string]) {
  const lines = message.split('\n').filter((line) => line.startsWith('  - '));
  t.true(lines.length > 0, message);
  const line = lines.find((l) => l.startsWith(`  - ${path} (from ${file}): `));
  t.truthy(line, `no problem at ${path} from ${file} in:\n${message}`);
  t.true(line?.includes(fragment), `"${fragment}" not in: ${line}`);
  // Every problem is blamed on the bad file: no follow-on noise from defaults.yml.
  t.deepEqual(lines.filter((l) => !l.includes(`(from ${file})`)), [], message);
}

test('every fixture of the corpus has an expectation and vice versa', async (t) => {
  const fixtures = (await readdir(CORPUS)).filter((f) => f.endsWith('.yml')).map((f) => f.slice(0, -4)).sort();
  t.deepEqual(fixtures, Object.keys(EXPECTED).sort());
  t.true(fixtures.length >= 30);
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`pillar:check refuses ${name}`, async (t) => {
    const dir = await project(t);
    const file = join(CORPUS, `${name}.yml`);
    const { error, log } = await checkInProcess(dir, file);
    t.truthy(error, `accepted: ${name}`);
    t.is(error!.name, 'PillarError');
    assertProblem(t, error!.message, file, expected);
    t.false(log.includes('pillar OK'));
    t.deepEqual(await listFiles(dir), ['base.yml'], 'nothing written');
  });
}

test('an oversized pillar file is refused before it is parsed', async (t) => {
  const dir = await project(t);
  const file = join(dir, 'huge.yml');
  // Valid YAML all the way (comments), so only the size can be the problem.
  await writeFile(file, `domain: registry.example.com\n${'# padding padding padding padding padding padding padding\n'.repeat(Math.ceil(MAX_PILLAR_BYTES / 57) + 1)}`);
  const { error } = await checkInProcess(dir, file);
  t.truthy(error);
  assertProblem(t, error!.message, file, ['(pillar)', `a pillar file of at most ${MAX_PILLAR_BYTES} bytes`]);
  t.deepEqual(await listFiles(dir), ['base.yml', 'huge.yml']);
});

test('problems of several files are all reported at once, each with its file', async (t) => {
  const dir = await project(t);
  let log = '';
  const files = ['domain-semicolon', 'ref-main', 'unknown-top-key'].map((n) => join(CORPUS, `${n}.yml`));
  const tasks = await createTasks({ cwd: dir, argv: files.flatMap((f) => ['--pillar', f]), env: {}, logger: { err: (s) => (log += s) } });
  const error = await t.throwsAsync(tasks['pillar:check']!());
  t.regex(error!.message, /^invalid pillar \(3 problems\)/);
  for (const [i, name] of ['domain-semicolon', 'ref-main', 'unknown-top-key'].entries()) {
    t.true(error!.message.includes(`  - ${EXPECTED[name]![0]} (from ${files[i]}): `), error!.message);
  }
});

// The real CLI: non-zero exit, "PillarError: ..." with the key path, no stack trace.
for (const name of ['domain-semicolon', 'alias-bomb', 'duplicate-key']) {
  test(`gulp pillar:check exits non-zero on ${name}, without a stack trace`, async (t) => {
    const dir = await project(t);
    const file = join(CORPUS, `${name}.yml`);
    const run = await runGulp(REPO_ROOT, ['pillar:check', '--pillar', join(dir, 'base.yml'), '--pillar', file], { PILLAR: '' });
    t.not(run.code, 0);
    t.regex(run.stderr, /PillarError: invalid pillar \(1 problem\):/);
    t.true(run.stderr.includes(`  - ${EXPECTED[name]![0]} (from ${file}): `), run.stderr);
    t.notRegex(run.all, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
    t.deepEqual(await listFiles(dir), ['base.yml']);
  });
}
