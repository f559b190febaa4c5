// How pillar files combine: defaults, pillar/local.yml, PILLAR (several files),
// --pillar, in-code overrides; deep merge vs replace; `{key}` references; and
// which file a problem is blamed on.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadPillar, pillarFiles, DEFAULTS_FILE, type PillarInput } from '../pillar/loader.ts';
import { tempDir } from './helpers/tmp.ts';

/** A project with the given files (path → YAML); data_root always inside it. */
async function project(t: ExecutionContext, files: Record<string, string> = {}) {
  const dir = await tempDir(t);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const load = (input: Partial<PillarInput> = {}) =>
    loadPillar({ cwd: dir, env: {}, ...input, code: [{ data_root: join(dir, 'data') }, ...(input.code ?? [])] });
  return { dir, load };
}

test('files merge in order: defaults, the code pillar, pillar/local.yml, PILLAR (colon-separated), --pillar', async (t) => {
  const { dir, load } = await project(t, {
    'pillar/local.yml': 'project: fromlocal\ndomain: local.example.com\nregistry: {port: 5100}\n',
    'a.yml': 'domain: a.example.com\nredis: {port: 6400}\n',
    'b.yml': 'domain: b.example.com\n',
    'c.yml': 'server_aliases: [c.example.com]\n',
  });
  const env = { PILLAR: 'a.yml:b.yml' };
  t.deepEqual(pillarFiles({ cwd: dir, env, files: ['c.yml'] }), [DEFAULTS_FILE, ...['pillar/local.yml', 'a.yml', 'b.yml', 'c.yml'].map((f) => join(dir, f))]);
  const { pillar, sources } = await load({ env, files: ['c.yml'], code: [{ redis: { host: '::1' } }] });
  t.is(sources.length, 5);
  t.is(pillar.project, 'fromlocal');
  t.is(pillar.domain, 'b.example.com');
  t.deepEqual(pillar.server_aliases, ['c.example.com']);
  // Mappings merge key by key: each file set one key, the defaults keep the rest.
  t.like(pillar.redis, { host: '::1', port: 6400, password: null });
  t.is(pillar.registry.port, 5100);
  t.is(pillar.registry.host, '127.0.0.1');
});

test('sequences replace; a builder of the other shape replaces the default whole', async (t) => {
  const { load } = await project(t, {
    'one.yml': 'server_aliases: [a.example.com, b.example.com]\nacl: [{match: {account: admin}, actions: ["*"]}]\n',
    'two.yml': 'server_aliases: [c.example.com]\nbinaries: {registry: {build: {builder: {image: "golang:1.24"}}}}\nimage: {base: {image: "debian:bookworm"}}\n',
  });
  const { pillar } = await load({ files: ['one.yml', 'two.yml'] });
  t.deepEqual(pillar.server_aliases, ['c.example.com']);
  t.is(pillar.acl.length, 1);
  t.deepEqual(pillar.binaries.registry!.build.builder, { image: 'golang:1.24' });
  t.deepEqual(pillar.image.base, { image: 'debian:bookworm' });
  t.is(pillar.binaries.registry!.build.package, './cmd/registry');
});

test('references resolve through other references, inside sequences, with {version}/{commit} kept for the build', async (t) => {
  const { dir, load } = await project(t, {
    'p.yml': [
      'project: corpus',
      'domain: "{project}.example.com"',
      'server_aliases: ["www.{domain}", "{project}.internal"]',
      'acl: [{match: {account: "{project}"}, actions: [pull]}]',
      'registry: {images: "{data_root}/images/{project}"}',
      '',
    ].join('\n'),
  });
  const { pillar } = await load({ files: ['p.yml'] });
  t.is(pillar.auth.token.realm, 'https://corpus.example.com/docker_auth_service/auth');
  t.deepEqual(pillar.server_aliases, ['www.corpus.example.com', 'corpus.internal']);
  t.deepEqual(pillar.acl[0]!.match, { account: 'corpus' });
  t.is(pillar.registry.images, join(dir, 'data', 'images', 'corpus'));
  t.is(pillar.binaries.auth_server!.build.ldflags, '-X main.Version={version} -X main.BuildID={commit}');
});

test('{version} outside a build string is an unknown reference', async (t) => {
  const { load } = await project(t, { 'p.yml': 'image: {dev_tag: "dev-{version}"}\n' });
  const error = await t.throwsAsync(load({ files: ['p.yml'] }));
  t.regex(error!.message, /image\.dev_tag \(from .*p\.yml\): expected a reference to an existing key, got "dev-\{version\}"; unknown key \{version\}/);
});

test('a value built from references that fails says what it was built from, and is blamed on its own file', async (t) => {
  const { dir, load } = await project(t, { 'a.yml': 'project: my_project\n', 'b.yml': 'domain: "{project}.example.com"\n' });
  const error = await t.throwsAsync(load({ files: ['a.yml', 'b.yml'] }));
  t.true(error!.message.includes(`  - domain (from ${join(dir, 'b.yml')}): expected domain name, got "my_project.example.com"; built from {project}`), error!.message);
});

test('a problem in the second of several PILLAR files names that file', async (t) => {
  const { dir, load } = await project(t, { 'ok.yml': 'domain: ok.example.com\n', 'bad.yml': 'ports: {https: 0}\n' });
  const error = await t.throwsAsync(load({ env: { PILLAR: 'ok.yml:bad.yml' } }));
  t.true(error!.message.includes(`  - ports.https (from ${join(dir, 'bad.yml')}): expected TCP port, got 0`), error!.message);
});

test('a missing pillar file is a problem naming it', async (t) => {
  const { dir, load } = await project(t);
  const error = await t.throwsAsync(load({ files: ['nope.yml'] }));
  t.true(error!.message.includes(`(pillar) (from ${join(dir, 'nope.yml')}): expected a readable pillar file, got ENOENT`), error!.message);
});

// Refs that are exact: tags holding a digit, and full commit SHAs.
for (const ref of ['0123456789abcdef0123456789abcdef01234567', 'v2.8.3', '1.14.0', 'release-2024.01']) {
  test(`ref ${ref} is accepted`, async (t) => {
    const { load } = await project(t, { 'p.yml': `binaries: {registry: {source: {ref: "${ref}"}}}\n` });
    t.is((await load({ files: ['p.yml'] })).pillar.binaries.registry!.source.ref, ref);
  });
}

test('an empty pillar file changes nothing', async (t) => {
  const { load } = await project(t, { 'empty.yml': '# nothing yet\n' });
  t.is((await load({ files: ['empty.yml'] })).pillar.domain, 'registry.example.com');
});
