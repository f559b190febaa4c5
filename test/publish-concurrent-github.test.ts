// Publishes to one GitHub release from several runs at once (no lock spans
// machines), against the emulator over real HTTP: another run's temporary
// uploads are left alone until they are older than the grace period, and runs
// replacing the same file all end with one good asset of each name.
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../lib/logger.ts';
import { GitHubPublisher, TEMP_PREFIX, timeStamp } from '../tasks/publish/github.ts';
import { assetNames, filesOf, publishProject, REPO, TAG, TOKEN, type PublishProject } from './helpers/github/project.ts';
import { writeReleaseDir } from './helpers/github/release-dir.ts';

const tempName = (run: string, file: string, agoMs = 0) => `${TEMP_PREFIX}${timeStamp(Date.now() - agoMs)}-${run}-${file}`;
/** Older than the grace period of the test's publisher, by far less than a minute (ages print in seconds). */
const GRACE_MS = 20_000;
const OLD_MS = 40_000;

/** An asset made the way another run makes it: a POST to the release's upload URL (cut short after `failAfter` bytes: left in `starter`). */
async function uploadAsOtherRun(project: PublishProject, name: string, content: Buffer, failAfter?: number): Promise<void> {
  const release = project.emulator.releases(REPO).find((r) => r.tag_name === TAG)!;
  if (failAfter !== undefined) project.emulator.fault({ server: 'uploads', path: new RegExp(`name=${name}$`), effect: { type: 'fail-after', bytes: failAfter } });
  const response = await fetch(`${(release.upload_url as string).replace(/\{[^}]*\}$/, '')}?name=${encodeURIComponent(name)}`, {
    method: 'POST', headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(content),
  });
  await response.arrayBuffer();
}

/** A publish of the project's release files from another machine: straight to GitHub, sharing no lock with this one. */
async function otherMachine(project: PublishProject): Promise<{ error?: Error; err: string }> {
  let err = '';
  const log = new Logger({ level: 'verbose', err: (s) => void (err += s), out: (s) => void (err += s) });
  const publisher = new GitHubPublisher({ repo: REPO, tag: TAG, baseUrl: project.emulator.baseUrl, token: TOKEN, log });
  const error = await publisher.publish(await filesOf(project.release.dir)).then(() => undefined, (e: Error) => e);
  return { error, err };
}

/** Every release file is an asset exactly once, uploaded, with the local bytes; nothing temporary is left. */
function assertOneGoodAssetEach(t: ExecutionContext, project: PublishProject): void {
  t.deepEqual(assetNames(project.emulator), [...project.release.files].sort());
  for (const asset of project.emulator.assets(REPO, TAG)) {
    t.is(asset.state, 'uploaded', `${asset.name} state`);
    t.deepEqual(project.emulator.content(REPO, TAG, asset.name as string), project.release.contents.get(asset.name as string), `${asset.name} bytes`);
  }
}

test('another run\'s fresh temporary and starter assets are left alone; ones older than the grace period are deleted', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  // Made the way another run makes them, then dated back past the grace period (no sleeping: a busy machine's
  // pauses would age the fresh ones too).
  const old = { temp: tempName('0badc0de', 'SHA256SUMS', OLD_MS), starter: tempName('0badc0de', 'auth_server-1.14.0.xz', OLD_MS) };
  await uploadAsOtherRun(project, old.temp, Buffer.from('half of an old run'));
  await uploadAsOtherRun(project, old.starter, randomBytes(64 * 1024), 1024);
  for (const name of Object.values(old)) project.emulator.backdate(REPO, TAG, name, OLD_MS);
  const fresh = { temp: tempName('feedf00d', 'SHA256SUMS'), starter: tempName('feedf00d', 'registry-v2.8.3.xz') };
  await uploadAsOtherRun(project, fresh.temp, Buffer.from('another run, verifying its copy'));
  await uploadAsOtherRun(project, fresh.starter, randomBytes(64 * 1024), 1024);
  t.deepEqual(project.emulator.assets(REPO, TAG).filter((a) => (a.name as string).startsWith(TEMP_PREFIX)).map((a) => [a.name, a.state]).sort(),
    [[old.temp, 'uploaded'], [old.starter, 'starter'], [fresh.temp, 'uploaded'], [fresh.starter, 'starter']].sort());

  let err = '';
  const log = new Logger({ level: 'verbose', err: (s) => void (err += s), out: (s) => void (err += s) });
  const publisher = new GitHubPublisher({ repo: REPO, tag: TAG, baseUrl: project.emulator.baseUrl, token: TOKEN, log, tempGraceMs: GRACE_MS });
  const files = await filesOf(project.release.dir);
  const plan = await publisher.plan(files);
  t.deepEqual(plan.filter((s) => s.action === 'delete').map((s) => s.name).sort(), [old.temp, old.starter].sort());
  await publisher.publish(files);

  t.deepEqual(assetNames(project.emulator), [...project.release.files, fresh.temp, fresh.starter].sort());
  t.regex(err, new RegExp(`deleting ${old.temp} \\(temporary upload left by an interrupted run, last changed \\d+s ago\\)`));
  t.regex(err, new RegExp(`deleting ${old.starter} \\(left in state starter by a failed upload, last changed \\d+s ago\\)`));
  t.regex(err, new RegExp(`leaving ${fresh.starter} alone \\(starter, changed \\ds ago: perhaps another run's upload in progress\\)`));
  t.regex(err, new RegExp(`leaving ${fresh.temp} alone`));
});

test('two publishes of a changed file at once, staggered and simultaneous: both succeed, one good asset of each name', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  const auth = project.release.contents.get('auth_server-1.14.0.xz')!;

  // Staggered: the second starts while the first is still uploading (read at 1 MiB/s), a fresh starter asset.
  project.release = await writeReleaseDir(project.release.dir, { registry: randomBytes(2 * 1024 * 1024), auth_server: auth });
  project.emulator.fault({ server: 'uploads', path: /-registry-v2\.8\.3\.xz$/, effect: { type: 'slow', delayMs: 0, bytesPerSecond: 1024 * 1024 } });
  // The second run is on "another machine": the same files, published straight, not under this project's release lock.
  const first = project.run();
  const uploading = () => project.emulator.assets(REPO, TAG).some((a) => (a.name as string).startsWith(TEMP_PREFIX) && a.state === 'starter');
  for (let i = 0; i < 500 && !uploading(); i++) await sleep(10);
  t.true(uploading(), 'the first run was caught uploading');
  const [a, b] = await Promise.all([first, otherMachine(project)]);
  t.is(a.error, undefined, a.all);
  t.is(b.error, undefined, b.err);
  t.regex(b.err, /leaving corpus-kit-tmp-\S+-registry-v2\.8\.3\.xz alone \(starter/);
  assertOneGoodAssetEach(t, project);

  // Simultaneous: both replace the same asset; whichever renames second finds the name taken by the same content.
  project.release = await writeReleaseDir(project.release.dir, { registry: randomBytes(512 * 1024), auth_server: auth });
  const runs = await Promise.all([project.run(), otherMachine(project)]);
  for (const run of runs) t.is(run.error, undefined, 'all' in run ? run.all : run.err);
  assertOneGoodAssetEach(t, project);
});
