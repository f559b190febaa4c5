// Builds on an engine that does not share this machine's files: no host path is
// ever given to the engine (a wrapper engine logs every command it gets), and
// DOCKER_HOST sends every container and volume to a second dockerd.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recipeImage } from '../container/recipes.ts';
import { createContext } from '../lib/context.ts';
import { buildProject, LDFLAGS, listVolumes, type Run } from './helpers/build-project.ts';
import { startDockerd } from './helpers/dockerd.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

test.before(() => requireCommands('docker', 'dockerd', 'git', 'debootstrap', 'xz'));

const docker = (env: NodeJS.ProcessEnv, args: string[]) => execFileSync('docker', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const lines = (text: string) => text.split('\n').filter(Boolean);
function ok(t: { is(a: unknown, b: unknown, m?: string): void }, r: Run): void {
  t.is(r.error?.message, undefined, r.err);
}
const GREETINGS: Record<string, string> = { vendored: 'hello from vendored', legacy: 'legacy gopath build', moddep: 'hello from moddep' };

test('no host path reaches the engine: trees go in and binaries come out through the CLI, caches are named volumes', async (t) => {
  const dir = await tempDir(t, 'corpus-kit-engine-');
  const log = join(dir, 'engine.log');
  const engine = join(dir, 'engine');
  // One line per call, arguments tab-separated, then the real docker.
  await writeFile(engine, `#!/bin/sh\nfor a in "$@"; do printf '%s\\t' "$a"; done >> '${log}'\necho >> '${log}'\nexec docker "$@"\n`);
  await chmod(engine, 0o755);
  const project = await buildProject(t);
  await writeFile(join(project.cwd, 'engine.yml'), JSON.stringify({ engine }));
  const r = await project.run('release', ['--pillar', join(project.cwd, 'engine.yml')]);
  ok(t, r);
  for (const name of ['vendored', 'legacy', 'moddep']) t.regex(execFileSync(join(project.cwd, 'dist/bin', name), { encoding: 'utf8' }), new RegExp(`^${GREETINGS[name]} version=v1\\.0\\.0`));

  const calls = lines(await readFile(log, 'utf8')).map((line) => line.split('\t').slice(0, -1));
  const creates = calls.filter((c) => c[0] === 'create' || c[0] === 'run');
  t.true(creates.length >= 7, `${creates.length} containers`);
  for (const call of calls) {
    const text = call.join(' ');
    t.false(text.includes(project.cwd), `a host path reached the engine: ${text}`);
    // The engine's own options come before the image; what follows is the command in the container (go build -v).
    const image = call.findIndex((a) => a.startsWith('corpus-kit-recipe/'));
    const options = image < 0 ? call : call.slice(0, image);
    t.false(options.some((a) => ['-v', '--volume', '--volumes-from'].includes(a) || /type=bind/.test(a)), text);
  }
  // Every mount is a named volume; every compile is offline, with its source read-only.
  for (const call of creates) for (const [i, a] of call.entries()) if (a === '--mount') t.regex(call[i + 1]!, /^type=volume,source=corpus-kit-test-[0-9a-f]+-[a-z]+-[0-9a-f]+,target=\/[^,]+(,readonly)?$/);
  const compiles = creates.filter((c) => c.includes('build') && c.includes('go'));
  t.is(compiles.length, 3);
  for (const call of compiles) {
    t.is(call[call.indexOf('--network') + 1], 'none');
    t.true(call.some((a) => /^type=volume,source=\S+-tree-[0-9a-f]+,target=\/(src|go\/src\/example\.org\/legacy),readonly$/.test(a)), call.join(' '));
    t.true(call.includes('-trimpath') && call.includes('CGO_ENABLED=0'));
  }
  // The download gets GOPROXY by name (its file:// directory copied into a volume), never by value.
  const download = creates.find((c) => c.includes('list') && c.includes('-deps'))!;
  t.is(download[download.indexOf('--network') + 1], 'host');
  t.true(download.includes('GOPROXY'));
  t.false(download.some((a) => a.startsWith('GOPROXY=')));
  // Every container made is removed; only the cache volumes stay, the tree volumes are gone.
  const removed = calls.filter((c) => c[0] === 'rm').map((c) => c.at(-1)!);
  t.is(removed.length, calls.filter((c) => c[0] === 'create').length);
  for (const id of removed) t.throws(() => docker(process.env, ['container', 'inspect', id]), undefined, id);
  t.deepEqual(listVolumes(process.env, project.volumePrefix).map((v) => v.replace(/-[0-9a-f]+$/, '').slice(project.volumePrefix.length)), ['-gocache', '-gomod']);
});

test('DOCKER_HOST is honoured: containers, volumes and images are on that engine, none on the default one, also after a failed build', async (t) => {
  const remote = await startDockerd();
  t.teardown(() => remote.stop());
  // The builder image reaches the other engine the way it would reach a remote one (docker save | docker load),
  // and goes there by a name of this test's own: whatever the kit did with it on the default engine would show.
  const ctx = await createContext({ cwd: process.cwd(), argv: [] });
  const image = await recipeImage(ctx, 'golang-bookworm');
  const builder = `corpus-kit-remote-${randomBytes(5).toString('hex')}:builder`;
  execFileSync('sh', ['-c', 'docker save "$1" | DOCKER_HOST="$2" docker load --quiet && DOCKER_HOST="$2" docker tag "$1" "$3"', 'sh', image.ref, remote.host, builder], { stdio: 'ignore' });
  t.is(docker(remote.env, ['image', 'inspect', '--format', '{{.Id}}', builder]), image.id);

  const project = await buildProject(t, { names: ['legacy', 'moddep'], env: { DOCKER_HOST: remote.host } });
  // The default engine is cleaned too, whatever happens (the project's own teardown cleans the remote one).
  t.teardown(() => cleanDefaultEngine(project.volumePrefix, builder));
  for (const binary of Object.values(project.binaries)) binary.build.builder = { image: builder };
  await project.save();
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const r = await project.run('release');
  ok(t, r);
  t.regex(execFileSync(join(project.cwd, 'dist/bin/moddep'), { encoding: 'utf8' }), /^hello from moddep version=v1\.0\.0/);
  const remoteVolumes = listVolumes(remote.env, project.volumePrefix);
  t.deepEqual(remoteVolumes.map((v) => v.slice(project.volumePrefix.length).replace(/-[0-9a-f]+$/, '')), ['-gocache', '-gomod']);
  t.deepEqual(lines(docker(remote.env, ['ps', '--all', '--quiet'])), []);
  // The remote engine did the work: it saw the containers made from the builder.
  const remoteCreates = lines(docker(remote.env, ['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'type=container', '--filter', 'event=create', '--format', '{{.Actor.Attributes.image}}']));
  t.true(remoteCreates.filter((i) => i === builder).length >= 3, remoteCreates.join(' '));

  // A failing compile leaves no container and no tree volume behind either.
  project.binaries.legacy!.build.ldflags = `${LDFLAGS} -X`;
  await project.save();
  const failed = await project.run('compile');
  t.regex(failed.error?.message ?? '', /\[legacy\] go build of v1\.0\.0 .* failed/);
  t.deepEqual(lines(docker(remote.env, ['ps', '--all', '--quiet'])), []);
  t.deepEqual(listVolumes(remote.env, project.volumePrefix), remoteVolumes);

  // The default engine saw none of it: no volume of this project, no container or image of this builder, ever.
  const until = String(Math.ceil(Date.now() / 1000));
  const events = (type: string, format: string) => lines(docker(process.env, ['events', '--since', since, '--until', until, '--filter', `type=${type}`, '--format', format]));
  t.deepEqual(events('volume', '{{.Actor.ID}}').filter((v) => v.startsWith(project.volumePrefix)), []);
  t.deepEqual(events('container', '{{.Actor.Attributes.image}}').filter((i) => i === builder), []);
  t.deepEqual(events('image', '{{.Actor.ID}} {{.Actor.Attributes.name}}').filter((e) => e.includes(builder.split(':')[0]!)), []);
  t.deepEqual(listVolumes(process.env, project.volumePrefix), []);
  t.is(docker(process.env, ['image', 'ls', '--quiet', builder]), '');
  t.is(docker(process.env, ['ps', '--all', '--quiet', '--filter', `ancestor=${builder}`]), '');
});

/** Whatever a broken kit could have left on the default engine under this test's names. */
function cleanDefaultEngine(prefix: string, builder: string): void {
  const containers = lines(docker(process.env, ['ps', '--all', '--quiet', '--filter', `ancestor=${builder}`]));
  if (containers.length) docker(process.env, ['rm', '--force', '--volumes', ...containers]);
  const volumes = listVolumes(process.env, prefix);
  if (volumes.length) docker(process.env, ['volume', 'rm', '--force', ...volumes]);
  if (docker(process.env, ['image', 'ls', '--quiet', builder])) docker(process.env, ['image', 'rm', builder]);
}
