// image:build against the real dockerd: the base from its recipe (no pull), the
// binaries verified against manifest.json before they reach the image, the
// labels, both tags, and nothing tagged when a binary was tampered with.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { hashFile } from '../lib/hash.ts';
import { BINARY_LABEL } from '../tasks/image-build.ts';
import { kitVersion } from '../tasks/image-context.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { DEBIAN_REGISTRY, imageProject, writeRelease } from './helpers/image-project.ts';
import { tempDir } from './helpers/tmp.ts';

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const tagged = (ref: string) => {
  try {
    execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

test('image:build tags {name}:{version} and :{dev_tag} with labels equal to the manifest, and installs the decompressed binary', async (t) => {
  t.timeout(30 * 60_000, 'builds the image (and its base on a new machine)');
  const project = await imageProject(t);
  const { error, all } = await project.run('image:build');
  t.is(error, undefined, all);
  const version = await kitVersion();
  const ref = `${project.name}:${version}`;
  t.true(tagged(ref), `${ref} is tagged`);
  t.is(docker('image', 'inspect', '--format', '{{.Id}}', `${project.name}:dev`), docker('image', 'inspect', '--format', '{{.Id}}', ref));
  const labels = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config.Labels}}', ref)) as Record<string, string>;
  const entry = (await project.manifest()).binaries.registry!;
  t.is(labels[`${BINARY_LABEL}.registry.sha256`], entry.sha256);
  t.is(labels[`${BINARY_LABEL}.registry.version`], entry.version);
  t.is(labels[`${BINARY_LABEL}.registry.commit`], entry.commit);
  t.is(labels['org.opencontainers.image.version'], version);
  t.is(labels['org.opencontainers.image.revision'], execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim());
  t.truthy(labels['org.opencontainers.image.source']);
  t.false(Object.keys(labels).some((k) => k.includes('auth_server')), 'a disabled binary is not installed');
  // What runs in the image is the archive's content, byte for byte.
  const inside = docker('run', '--rm', '--network', 'none', '--entrypoint', 'sha256sum', ref, '/usr/local/bin/registry').split(' ')[0];
  t.is(inside, (await hashFile(DEBIAN_REGISTRY)).sha256);
  const config = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config}}', ref)) as { Entrypoint: string[]; Healthcheck: { Test: string[] }; Volumes: Record<string, object>; ExposedPorts: Record<string, object> };
  t.deepEqual(config.Entrypoint, ['/usr/bin/tini', '--', '/usr/local/bin/corpus-kit']);
  t.deepEqual(config.Healthcheck.Test, ['CMD', '/usr/local/bin/corpus-kit', 'status']);
  t.deepEqual(Object.keys(config.Volumes), [join(project.dir, 'data')]);
  t.deepEqual(Object.keys(config.ExposedPorts).sort(), ['443/tcp', '80/tcp']);
  // The service group carries the editor gid.
  t.is(docker('run', '--rm', '--network', 'none', '--entrypoint', 'getent', ref, 'group', 'editor').split(':')[2], '65753');
});

test('image:build stops naming a binary whose archive does not match manifest.json, and tags nothing', async (t) => {
  const project = await imageProject(t);
  const archive = join(project.release, (await project.manifest()).binaries.registry!.file);
  // A well-formed archive of other bytes: only the manifest's sha256 can tell.
  execFileSync('sh', ['-c', 'xz -0 --stdout /bin/true > "$1"', 'sh', archive]);
  const { error, all } = await project.run('image:build');
  t.truthy(error, 'the build fails');
  t.regex(error!.message, new RegExp(`${archive.replaceAll('/', '\\/').replaceAll('.', '\\.')}: sha256 [0-9a-f]{64} does not match manifest\\.json`), all);
  t.false(tagged(`${project.name}:${await kitVersion()}`));
  t.false(tagged(`${project.name}:dev`));
});

test('image:build again with one binary changed rebuilds only the layer that holds it', async (t) => {
  t.timeout(30 * 60_000, 'builds the image (and its base on a new machine)');
  const project = await imageProject(t);
  const layers = () => JSON.parse(docker('image', 'inspect', '--format', '{{json .RootFS.Layers}}', `${project.name}:dev`)) as string[];
  t.is((await project.run('image:build')).error, undefined);
  const before = layers();
  // Another registry binary (a byte more), packaged again with its manifest.
  const scratch = await tempDir(t);
  execFileSync('sh', ['-c', 'cat "$1" > "$2/registry" && printf x >> "$2/registry"', 'sh', DEBIAN_REGISTRY, scratch]);
  await writeRelease(project.release, { registry: { from: join(scratch, 'registry'), version: '2.8.2' } });
  const rebuilt = await project.run('image:build');
  t.is(rebuilt.error, undefined, rebuilt.all);
  const after = layers();
  t.is(after.length, before.length);
  t.deepEqual(after.slice(0, -1), before.slice(0, -1), 'every layer below the binary is reused');
  t.not(after.at(-1), before.at(-1), 'the binary\'s layer is new');
});

test('image:build with supervisor: circus on a base without circusd stops naming supervisor: circus and the fix, and tags nothing', async (t) => {
  const project = await imageProject(t, { supervisor: 'circus' });
  // A pinned base with no circus in it (an empty image, made here: nothing is pulled).
  const base = `${project.name}-base:empty`;
  execFileSync('sh', ['-c', 'tar -c --files-from /dev/null | docker import - "$1"', 'sh', base], { stdio: 'ignore' });
  t.teardown(() => void execFileSync('docker', ['image', 'rm', '--force', base], { stdio: 'ignore' }));
  await project.setPillar({ supervisor: 'circus', image: { name: project.name, dev_tag: 'dev', base: { image: base } } });
  const { error, all } = await project.run('image:build');
  t.truthy(error, all);
  t.is(error!.message, `image:build: supervisor: circus, but the base image ${base} (image.base) has no circusd and circusctl on PATH; use the recipe registry-trixie (it installs circus), install circus in that image, or set supervisor: supervisord`);
  t.false(tagged(`${project.name}:${await kitVersion()}`));
  t.false(tagged(`${project.name}:dev`));
});
