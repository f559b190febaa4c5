// A project for image tests: a release whose registry binary is Debian's
// docker-registry (auth_server disabled), written with the manifest package
// would write, an image name of its own (removed when the test ends), and the
// kit's tasks run in process with their output captured.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { stringify } from 'yaml';
import { hashFile } from '../../lib/hash.ts';
import { MANIFEST_FILE, releaseFileNames, SUMS_FILE, sumLine, type Manifest } from '../../lib/manifest.ts';
import { runKitTasks } from './tasks.ts';
import { requireCommands } from './prerequisites.ts';
import { tempDir } from './tmp.ts';

export const DEBIAN_REGISTRY = '/usr/bin/docker-registry';

export interface ImageProject {
  dir: string;
  release: string;
  pillarFile: string;
  name: string;
  id: string;
  /** Runs one kit task with extra argv; returns everything printed, and its error. */
  run(task: string, argv?: string[], env?: NodeJS.ProcessEnv): Promise<{ all: string; error?: Error }>;
  setPillar(extra: object): Promise<void>;
  manifest(): Promise<Manifest>;
}

/** Writes dist/release/ as package does: one xz archive per binary, its sums and manifest.json. */
export async function writeRelease(dir: string, binaries: Record<string, { from: string; version: string }>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const manifest: Manifest = { schema: 1, binaries: {}, files: [] };
  for (const [name, { from, version }] of Object.entries(binaries)) {
    const file = `${name}-${version}.xz`;
    execFileSync('sh', ['-c', 'xz -0 -T2 --stdout -- "$1" > "$2"', 'sh', from, join(dir, file)]);
    const digest = await hashFile(join(dir, file));
    await writeFile(join(dir, `${file}.md5`), sumLine(digest.md5, file));
    await writeFile(join(dir, `${file}.sha256`), sumLine(digest.sha256, file));
    const commit = (await hashFile(from)).sha256.slice(0, 40);
    manifest.binaries[name] = { version, ref: `v${version}`, commit, builder_image_id: `sha256:${'0'.repeat(64)}`, file, ...digest };
  }
  manifest.files = releaseFileNames(Object.values(manifest.binaries));
  await writeFile(join(dir, SUMS_FILE), Object.values(manifest.binaries).map((b) => sumLine(b.sha256, b.file)).join(''));
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Every image tagged with this repository name, removed (the test's own name, never another's). */
export function removeImages(name: string): void {
  const refs = execFileSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (refs.length > 0) execFileSync('docker', ['image', 'rm', '--force', ...refs], { stdio: 'ignore' });
}

export async function imageProject(t: ExecutionContext, extra: object = {}): Promise<ImageProject> {
  requireCommands('docker', 'xz', 'debootstrap', 'docker-registry', 'npm');
  const dir = await tempDir(t, 'corpus-kit-image-');
  const id = randomBytes(4).toString('hex');
  const name = `corpus-kit-test-${id}/registry`;
  t.teardown(() => removeImages(name));
  const release = join(dir, 'dist', 'release');
  await writeRelease(release, { registry: { from: DEBIAN_REGISTRY, version: '2.8.2' } });
  const pillarFile = join(dir, 'pillar.yml');
  const base = { data_root: join(dir, 'data'), image: { name, dev_tag: 'dev' }, binaries: { auth_server: { enabled: false } }, auth: { mode: 'htpasswd' } };
  const setPillar = async (more: object) => writeFile(pillarFile, stringify({ ...base, ...extra, ...more }));
  await setPillar({});
  const run: ImageProject['run'] = async (task, argv = [], env = {}) => {
    const { all, error } = await runKitTasks({ cwd: dir, argv: ['--pillar', pillarFile, ...argv], env: { ...process.env, ...env } }, [task]);
    return error ? { all: `${all}${error.message}\n`, error } : { all };
  };
  const manifest = async () => JSON.parse(await readFile(join(release, MANIFEST_FILE), 'utf8')) as Manifest;
  return { dir, release, pillarFile, name, id, run, setPillar, manifest };
}
