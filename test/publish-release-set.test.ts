// What publish sends is exactly the release the package step wrote: every file a
// regular file of the release folder, listed in manifest.json, each archive in
// SHA256SUMS with the manifest's digest; a hand-edited manifest is validated
// like the pillar (names, file names without `/` or `..`, digests), by the one
// reader publish and `package --only` share.
import test from 'ava';
import { readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, readManifest, SUMS_FILE } from '../lib/manifest.ts';
import { publishProject, TAG, type PublishProject } from './helpers/github/project.ts';

const manifestPath = (project: PublishProject) => join(project.release.dir, MANIFEST_FILE);

async function editManifest(project: PublishProject, edit: (manifest: Record<string, any>) => void): Promise<void> {
  const manifest = JSON.parse(await readFile(manifestPath(project), 'utf8')) as Record<string, any>;
  edit(manifest);
  await writeFile(manifestPath(project), JSON.stringify(manifest, null, 2));
}

/** The run fails with every expected line, and nothing reached either target. */
async function refused(t: import('ava').ExecutionContext, project: PublishProject, ...expected: RegExp[]): Promise<void> {
  for (const target of ['local', 'github']) {
    const run = await project.run(['--target', target]);
    for (const pattern of expected) t.regex(run.error?.message ?? '', pattern, `--target ${target}`);
  }
  t.deepEqual(project.emulator.requests.filter((r) => r.method !== 'GET'), [], 'no write to GitHub');
  await t.throwsAsync(stat(join(project.cwd, 'published', TAG)), { code: 'ENOENT' }, 'the local folder is not created');
}

test('an empty SHA256SUMS and an extra manifest entry that is a symlink to /etc/passwd: refused, nothing published', async (t) => {
  const project = await publishProject(t);
  await writeFile(join(project.release.dir, SUMS_FILE), '');
  await symlink('/etc/passwd', join(project.release.dir, 'passwd'));
  await editManifest(project, (m) => void (m.files = [...m.files, 'passwd'].sort()));
  await refused(t, project, /manifest\.json is not a manifest corpus-kit wrote/, /files: expected the archives of "binaries" .* got a list with files not part of the release: "passwd"/);

  await editManifest(project, (m) => void (m.files = m.files.filter((f: string) => f !== 'passwd')));
  await refused(t, project, /nothing was published:/, /registry-v2\.8\.3\.xz: not listed in SHA256SUMS/, /auth_server-1\.14\.0\.xz: not listed in SHA256SUMS/);
});

test('an archive replaced by a symlink to a file with the same bytes is not a regular file: refused', async (t) => {
  const project = await publishProject(t);
  const archive = join(project.release.dir, 'registry-v2.8.3.xz');
  const elsewhere = join(project.cwd, 'elsewhere.xz');
  await writeFile(elsewhere, await readFile(archive));
  await rm(archive);
  await symlink(elsewhere, archive);
  await refused(t, project, /registry-v2\.8\.3\.xz: not a regular file \(.*registry-v2\.8\.3\.xz\); only regular files of the release folder are published/);
});

test('SHA256SUMS and manifest.json must agree: a SHA256SUMS line with another digest, or for a file that is no archive, is refused', async (t) => {
  const project = await publishProject(t);
  const sums = await readFile(join(project.release.dir, SUMS_FILE), 'utf8');
  await writeFile(join(project.release.dir, SUMS_FILE), `${sums}${'0'.repeat(64)}  manifest.json\n`);
  await refused(t, project, /SHA256SUMS: lists manifest\.json, which is no archive of manifest\.json/);
  await writeFile(join(project.release.dir, SUMS_FILE), sums.replace(/^[0-9a-f]{64}(?=  registry)/m, 'f'.repeat(64)));
  await refused(t, project, new RegExp(`registry-v2\\.8\\.3\\.xz: SHA256SUMS says sha256 ${'f'.repeat(64)}, manifest\\.json says [0-9a-f]{64}`));
});

test('a hand-edited manifest is validated like the pillar, every problem with its key path, by the reader `package --only` shares', async (t) => {
  const project = await publishProject(t);
  await editManifest(project, (m) => {
    m.binaries.registry.file = '../auth_server-1.14.0.xz';
    m.binaries.registry.sha256 = 'not-a-digest';
    m.binaries.auth_server.size = -1;
    m.binaries['Bad Name'] = m.binaries.auth_server;
  });
  const error = await readManifest(project.release.dir).then(() => undefined, (e: Error) => e);
  const message = error?.message ?? '';
  t.regex(message, /manifest\.json is not a manifest corpus-kit wrote \(\d+ problems\)/);
  t.regex(message, /binaries\.registry\.file: expected file name in the release folder \(no \/ or \.\.\), got "\.\.\/auth_server-1\.14\.0\.xz"/);
  t.regex(message, /binaries\.registry\.sha256: expected sha256 \(64 lowercase hex digits\), got "not-a-digest"/);
  t.regex(message, /binaries\.auth_server\.size: expected .*got -1/);
  t.regex(message, /binaries(\.Bad Name)?: expected a key that is a process name/);
  await refused(t, project, /binaries\.registry\.file: expected file name in the release folder/);

  // Two binaries claiming one archive: the carry-over of one would drop the other's package.
  await restoreManifest(project);
  await editManifest(project, (m) => void (m.binaries.registry.file = m.binaries.auth_server.file));
  await t.throwsAsync(readManifest(project.release.dir), { message: /binaries\.(registry|auth_server)\.file: expected a file of its own, got "auth_server-1\.14\.0\.xz", which is also binaries\.(registry|auth_server)\.file/ });
});

/** The manifest as the package step wrote it. */
async function restoreManifest(project: PublishProject): Promise<void> {
  await writeFile(manifestPath(project), project.release.contents.get(MANIFEST_FILE)!);
}

test('a checksum file or manifest.json that is a symlink to a private file: refused without quoting a byte of it', async (t) => {
  const project = await publishProject(t);
  const secret = 'PRIVATE-0f4c2e-not-for-output';
  const privateFile = join(project.cwd, 'private.txt');
  await writeFile(privateFile, `${secret}\n`);
  const sidecar = join(project.release.dir, 'registry-v2.8.3.xz.md5');
  await rm(sidecar);
  await symlink(privateFile, sidecar);
  const viaSidecar = await project.run();
  t.regex(viaSidecar.error?.message ?? '', /registry-v2\.8\.3\.xz\.md5: not a regular file/);
  t.false(viaSidecar.all.includes(secret), 'the private file is not quoted');

  await restoreManifest(project);
  await rm(manifestPath(project));
  await symlink(privateFile, manifestPath(project));
  const viaManifest = await project.run();
  t.regex(viaManifest.error?.message ?? '', /manifest\.json: not a regular file; only regular files of the release folder are read/);
  t.false(viaManifest.all.includes(secret));
  await rm(manifestPath(project));
  await writeFile(manifestPath(project), `{"schema": 1, ${secret}`);
  const broken = await project.run();
  t.regex(broken.error?.message ?? '', /manifest\.json: not valid JSON \(run `gulp package` to write it again\)/);
  t.false(broken.all.includes(secret));
});
