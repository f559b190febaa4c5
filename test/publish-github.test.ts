// publish to a GitHub release, against the emulator over real HTTP, through the
// real `publish` task: draft → uploads → published, no-op re-run, replacement
// that never leaves the release without a good copy, leftovers, drafts found
// by listing, verification by download when GitHub gives no digest, --dry-run.
import test from 'ava';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from '../tasks/publish/github.ts';
import { assetNames, publishProject, REPO, TAG, TOKEN, type PublishProject } from './helpers/github/project.ts';
import { writeReleaseDir } from './helpers/github/release-dir.ts';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Every file of the release directory is an asset exactly once, uploaded, with the local bytes. */
function assertReleaseMatches(t: import('ava').ExecutionContext, project: PublishProject): void {
  const assets = project.emulator.assets(REPO, TAG);
  t.deepEqual(assetNames(project.emulator), [...project.release.files].sort());
  for (const asset of assets) {
    const local = project.release.contents.get(asset.name as string)!;
    t.is(asset.state, 'uploaded', `${asset.name} state`);
    t.is(asset.size, local.length, `${asset.name} size`);
    t.deepEqual(project.emulator.content(REPO, TAG, asset.name as string), local, `${asset.name} bytes`);
  }
}

test('first publish creates a draft, uploads every file under a temporary name, renames it, then publishes the release', async (t) => {
  const project = await publishProject(t);
  const run = await project.run(['--verbose']);
  t.is(run.error, undefined, run.all);
  assertReleaseMatches(t, project);
  const releases = project.emulator.releases(REPO);
  t.is(releases.length, 1);
  t.is(releases[0]!.draft, false);

  const writes = project.emulator.writes();
  t.deepEqual(writes[0]!.body, { tag_name: TAG, name: TAG, draft: true, body: 'Release files published by corpus-kit.' });
  const publishIndex = writes.findIndex((w) => w.body?.draft === false);
  t.is(publishIndex, writes.length - 1, 'the release is published last');
  const uploads = writes.filter((w) => w.server === 'uploads');
  t.is(uploads.length, project.release.files.length);
  for (const upload of uploads) t.true(new URL(upload.path, 'http://x').searchParams.get('name')!.startsWith(TEMP_PREFIX));
  // Every upload carried its length and the token in the header only.
  for (const upload of project.emulator.requests.filter((r) => r.server === 'uploads')) {
    t.is(Number(upload.headers['content-length']), upload.bytes);
    t.is(upload.headers.authorization, `Bearer ${TOKEN}`);
    t.false(upload.path.includes(TOKEN));
  }
  // While the release was still a draft, it never showed a partial file under a final name.
  const renames = writes.filter((w) => w.method === 'PATCH' && typeof w.body?.name === 'string');
  t.deepEqual(renames.map((w) => w.body!.name).sort(), [...project.release.files].sort());

  for (const name of project.release.files) t.regex(run.out, new RegExp(`^${name.replace(/\./g, '\\.')} .* upload +http://127\\.0\\.0\\.1:\\d+/${REPO}/releases/download/${TAG}/${name}$`, 'm'));
  t.regex(run.out, /^asset +size +sha256 +action +url$/m);
  t.false(run.all.includes(TOKEN), 'the token is never printed');
});

test('a second publish with nothing changed uploads nothing and changes nothing', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  project.emulator.requests.length = 0;
  const run = await project.run(['--verbose']);
  t.is(run.error, undefined, run.all);
  t.deepEqual(project.emulator.writes(), []);
  for (const name of project.release.files) t.regex(run.out, new RegExp(`^${name.replace(/\./g, '\\.')} .* skip `, 'm'));
  assertReleaseMatches(t, project);
});

test('a changed file is replaced, and the release holds a good copy of it at every moment', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  const oldContents = project.release.contents;
  const auth = oldContents.get('auth_server-1.14.0.xz')!;
  project.release = await writeReleaseDir(project.release.dir, { registry: Buffer.from('a new registry build'.repeat(5000)), auth_server: auth });
  const changed = project.release.files.filter((n) => !oldContents.get(n)?.equals(project.release.contents.get(n)!));
  t.deepEqual(changed.sort(), ['SHA256SUMS', 'manifest.json', 'registry-v2.8.3.xz', 'registry-v2.8.3.xz.md5', 'registry-v2.8.3.xz.sha256']);
  const firstSnapshot = project.emulator.snapshots.length;
  const oldIds = new Map(project.emulator.assets(REPO, TAG).map((a) => [a.name as string, a.id as number]));
  project.emulator.requests.length = 0;

  const run = await project.run();
  t.is(run.error, undefined, run.all);
  assertReleaseMatches(t, project);
  for (const name of changed) t.regex(run.out, new RegExp(`^${name.replace(/\./g, '\\.')} .* replace `, 'm'));
  t.regex(run.out, /^auth_server-1\.14\.0\.xz .* skip /m);

  // For each replaced file, the temporary asset that takes its name (the PATCH renaming it) is
  // read back (a GET of that very asset) before the DELETE of the old asset.
  const requests = project.emulator.requests;
  const verifiedAt = new Map<number, number>();
  requests.forEach((r, i) => {
    const id = r.method === 'GET' && r.status === 200 && /\/releases\/assets\/(\d+)$/.exec(r.path)?.[1];
    if (id && !verifiedAt.has(Number(id))) verifiedAt.set(Number(id), i);
  });
  for (const name of changed) {
    const rename = requests.find((r) => r.method === 'PATCH' && r.body?.name === name && /\/releases\/assets\/\d+$/.test(r.path));
    const tempId = Number(/(\d+)$/.exec(rename?.path ?? '')?.[1]);
    const deletion = requests.findIndex((r) => r.method === 'DELETE' && r.path.endsWith(`/releases/assets/${oldIds.get(name)}`));
    t.true(deletion > 0, `the old ${name} was deleted`);
    t.true((verifiedAt.get(tempId) ?? Infinity) < deletion, `${name}: its new copy (asset ${tempId}) was verified before the old one was deleted`);
  }
  // After every change the emulator saw, each changed file is there as the old asset under its name,
  // or as a verified copy of its new bytes (under its name, or its temporary name just before the rename).
  for (const snapshot of project.emulator.snapshots.slice(firstSnapshot)) {
    for (const name of changed) {
      const old = snapshot.assets.some((a) => a.name === name && a.state === 'uploaded' && a.sha256 === sha256(oldContents.get(name)!));
      const verified = snapshot.assets.some((a) => (a.name === name || (a.name.startsWith(TEMP_PREFIX) && a.name.endsWith(`-${name}`))) && a.state === 'uploaded'
        && a.sha256 === sha256(project.release.contents.get(name)!) && (verifiedAt.get(a.id) ?? Infinity) < snapshot.request);
      t.true(old || verified, `${name} after ${snapshot.after}`);
    }
  }
});

test('--dry-run prints the plan and makes no write request, on a new release and on a changed one', async (t) => {
  const project = await publishProject(t);
  const plan = await project.run(['--dry-run', '--verbose']);
  t.is(plan.error, undefined, plan.all);
  t.deepEqual(project.emulator.writes(), []);
  t.deepEqual(project.emulator.releases(REPO), []);
  t.regex(plan.out, /dry run: nothing changed/);
  t.regex(plan.out, new RegExp(`^create +${TAG} +no release with this tag`, 'm'));
  for (const name of project.release.files) t.regex(plan.out, new RegExp(`^upload +${name.replace(/\./g, '\\.')} +new$`, 'm'));
  t.regex(plan.out, new RegExp(`^publish +${TAG} `, 'm'));

  t.is((await project.run()).error, undefined);
  await writeFile(join(project.release.dir, 'auth_server-1.14.0.xz'), 'tampered after packaging');
  const writesBefore = project.emulator.writes().length;
  const refused = await project.run([]);
  t.regex(refused.error?.message ?? '', /nothing was published:\n.*auth_server-1\.14\.0\.xz: sha256 [0-9a-f]+, SHA256SUMS recorded [0-9a-f]+/s);
  t.is(project.emulator.writes().length, writesBefore, 'a file that does not match its manifest stops publish before any write');
  project.release = await writeReleaseDir(project.release.dir, { registry: project.release.contents.get('registry-v2.8.3.xz')!, auth_server: Buffer.from('auth v2') });
  project.emulator.requests.length = 0;
  const second = await project.run(['--dry-run']);
  t.is(second.error, undefined, second.all);
  t.deepEqual(project.emulator.writes(), []);
  t.regex(second.out, /^replace +auth_server-1\.14\.0\.xz +size differs \(92163 → 7 bytes\)$/m);
  t.regex(second.out, /^skip +registry-v2\.8\.3\.xz +identical/m);
  t.notRegex(second.out, new RegExp(`^publish +${TAG}`, 'm'));
  t.false(second.all.includes(TOKEN));
});

test('a draft left by an interrupted run is found by listing (on page 2), completed and published', async (t) => {
  const project = await publishProject(t);
  const draftId = project.emulator.seedRelease(REPO, { tag: TAG, draft: true, assets: [{ name: 'registry-v2.8.3.xz', content: project.release.contents.get('registry-v2.8.3.xz')! }] });
  for (let i = 0; i < 120; i++) project.emulator.seedRelease(REPO, { tag: `v0.${i}` });
  const run = await project.run();
  t.is(run.error, undefined, run.all);
  t.false(project.emulator.writes().some((w) => w.method === 'POST' && w.server === 'api'), 'no second release created');
  t.true(project.emulator.requests.some((r) => r.path.includes('/releases?') && r.path.includes('page=2')));
  const release = project.emulator.releases(REPO).find((r) => r.tag_name === TAG)!;
  t.is(release.id, draftId);
  t.is(release.draft, false);
  t.regex(run.out, /^registry-v2\.8\.3\.xz .* skip /m);
  assertReleaseMatches(t, project);
});

test('a starter asset holding a file\'s name is deleted; a fresh temporary upload (perhaps another run\'s) is left alone; the files land once', async (t) => {
  const project = await publishProject(t);
  project.emulator.seedRelease(REPO, {
    tag: TAG,
    assets: [
      { name: 'registry-v2.8.3.xz', content: '', state: 'starter' },
      { name: `${TEMP_PREFIX}0badc0de-SHA256SUMS`, content: 'half of an old run' },
      { name: 'NOTES.txt', content: 'put there by a person' },
    ],
  });
  const run = await project.run();
  t.is(run.error, undefined, run.all);
  t.regex(run.err, /deleting registry-v2\.8\.3\.xz \(left in state starter by a failed upload\)/);
  t.regex(run.err, /leaving corpus-kit-tmp-0badc0de-SHA256SUMS alone \(uploaded, changed \d+s ago: perhaps another run's upload in progress\)/);
  const names = assetNames(project.emulator);
  t.deepEqual(names, [...project.release.files, 'NOTES.txt', `${TEMP_PREFIX}0badc0de-SHA256SUMS`].sort(), 'assets of others are left alone');
  for (const asset of project.emulator.assets(REPO, TAG)) t.is(asset.state, 'uploaded');
});

test('without a digest field (older GitHub Enterprise), identity and verification use a streamed download that drops the token on the redirect', async (t) => {
  const project = await publishProject(t, { digests: false });
  t.is((await project.run()).error, undefined);
  t.false('digest' in project.emulator.assets(REPO, TAG)[0]!);
  const downloads = project.emulator.requests.filter((r) => r.path.startsWith('/download/'));
  t.is(downloads.length, project.release.files.length, 'each upload read back');
  for (const download of downloads) t.is(download.headers.authorization, undefined);

  // Same size, other bytes: only a download can tell.
  const registry = Buffer.from(project.release.contents.get('registry-v2.8.3.xz')!);
  registry[0]! ^= 0xff;
  project.release = await writeReleaseDir(project.release.dir, { registry, auth_server: project.release.contents.get('auth_server-1.14.0.xz')! });
  project.emulator.requests.length = 0;
  const run = await project.run();
  t.is(run.error, undefined, run.all);
  t.regex(run.out, /^registry-v2\.8\.3\.xz .* replace /m);
  t.regex(run.out, /^auth_server-1\.14\.0\.xz .* skip /m);
  assertReleaseMatches(t, project);
});

test('an upload that does not verify fails naming the asset and leaves the previous one in place', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  const before = project.emulator.content(REPO, TAG, 'auth_server-1.14.0.xz');
  project.release = await writeReleaseDir(project.release.dir, { registry: project.release.contents.get('registry-v2.8.3.xz')!, auth_server: Buffer.from('auth v2'.repeat(999)) });
  project.emulator.fault({ server: 'uploads', path: /name=corpus-kit-tmp-\d{8}T\d{6}Z-[0-9a-f]+-auth_server-1\.14\.0\.xz$/, effect: { type: 'corrupt' } });
  const run = await project.run(['--verbose']);
  t.regex(run.error?.message ?? '', /auth_server-1\.14\.0\.xz: the uploaded copy \(corpus-kit-tmp-\d{8}T\d{6}Z-[0-9a-f]+-auth_server-1\.14\.0\.xz\) failed verification: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
  t.deepEqual(project.emulator.content(REPO, TAG, 'auth_server-1.14.0.xz'), before);
  t.false(assetNames(project.emulator).some((n) => n.startsWith(TEMP_PREFIX)), 'the bad copy is deleted');
  t.false(run.all.includes(TOKEN));
});

test('credentials: a wrong token is a clear 401, GH_USER/GH_PASSWORD are refused, a missing token is explained; none is printed', async (t) => {
  const project = await publishProject(t);
  const wrong = 'ghp_wrongTokenValue0123456789abc';
  const bad = await project.run(['--verbose'], { GITHUB_TOKEN: wrong });
  t.regex(bad.error?.message ?? '', /Bad credentials/);
  t.is(project.emulator.requests.length, 1, 'a 401 is not retried');
  t.false(bad.all.includes(wrong));

  const password = 'hunter2-old-github-password';
  const old = await project.run(['--verbose'], { GH_USER: 'someone', GH_PASSWORD: password, GH_TOKEN: TOKEN });
  t.regex(old.error?.message ?? '', /GH_USER\/GH_PASSWORD are set, but GitHub no longer accepts account passwords.*GITHUB_TOKEN/s);
  t.false(old.all.includes(password));
  t.false(old.all.includes(TOKEN));

  const none = await project.run([], {});
  t.regex(none.error?.message ?? '', /neither GITHUB_TOKEN nor GH_TOKEN is set/);
  t.is(project.emulator.requests.length, 1);

  await writeFile(join(project.cwd, '.env'), `GH_TOKEN=${TOKEN}\n`);
  const fromDotenv = await project.run(['--verbose'], {});
  t.is(fromDotenv.error, undefined, fromDotenv.all);
  t.false(fromDotenv.all.includes(TOKEN));
  assertReleaseMatches(t, project);
});
