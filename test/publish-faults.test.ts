// Each fault the emulator can play, through the real `publish` task: the run
// ends with every file present once and verified, or with a clear error that
// leaves the previous good assets in place. No output ever holds the token.
import test, { type ExecutionContext } from 'ava';
import { Logger } from '../lib/logger.ts';
import { GitHubPublisher, TEMP_PREFIX } from '../tasks/publish/github.ts';
import type { Fault } from './helpers/github/emulator.ts';
import { assetNames, filesOf, publishProject, REPO, TAG, TOKEN, type PublishProject } from './helpers/github/project.ts';
import { writeReleaseDir } from './helpers/github/release-dir.ts';

const REGISTRY = 'registry-v2.8.3.xz';
/** The upload of the registry archive, under whatever temporary name the run picks. */
const REGISTRY_UPLOAD = new RegExp(`name=${TEMP_PREFIX}\\d{8}T\\d{6}Z-[0-9a-f]+-registry-v2\\.8\\.3\\.xz$`);

function assertComplete(t: ExecutionContext, project: PublishProject): void {
  t.deepEqual(assetNames(project.emulator), [...project.release.files].sort(), 'every file once, no leftover');
  for (const asset of project.emulator.assets(REPO, TAG)) {
    t.is(asset.state, 'uploaded');
    t.deepEqual(project.emulator.content(REPO, TAG, asset.name as string), project.release.contents.get(asset.name as string), `${asset.name} bytes`);
  }
  t.is(project.emulator.releases(REPO)[0]!.draft, false);
}

async function publishWith(t: ExecutionContext, ...faults: Fault[]) {
  const project = await publishProject(t);
  for (const fault of faults) project.emulator.fault(fault);
  const run = await project.run(['--verbose']);
  t.false(run.all.includes(TOKEN), 'the token is never printed');
  return { project, run };
}

const registryUploads = (project: PublishProject) => project.emulator.requests.filter((r) => r.server === 'uploads' && REGISTRY_UPLOAD.test(r.path));

test('502 after part of an upload (leaving a starter asset): the starter is deleted and the upload retried', async (t) => {
  const { project, run } = await publishWith(t, { server: 'uploads', path: REGISTRY_UPLOAD, effect: { type: 'fail-after', bytes: 64 * 1024 } });
  t.is(run.error, undefined, run.all);
  const uploads = registryUploads(project);
  t.deepEqual(uploads.map((u) => u.status), [502, 201]);
  t.true(uploads[0]!.bytes < project.release.contents.get(REGISTRY)!.length, 'the first attempt was cut short');
  const between = project.emulator.requests.slice(project.emulator.requests.indexOf(uploads[0]!), project.emulator.requests.indexOf(uploads[1]!));
  t.true(between.some((r) => r.method === 'DELETE'), 'the starter asset was deleted before the retry');
  t.regex(run.err, /upload of registry-v2\.8\.3\.xz failed \(HTTP 502 Server Error\); attempt 2 in/);
  assertComplete(t, project);
});

test('connection reset mid-body: a fresh stream on the next attempt, the starter removed', async (t) => {
  const { project, run } = await publishWith(t, { server: 'uploads', path: REGISTRY_UPLOAD, effect: { type: 'reset-after', bytes: 32 * 1024 } });
  t.is(run.error, undefined, run.all);
  const uploads = registryUploads(project);
  t.is(uploads.length, 2);
  t.is(uploads[1]!.bytes, project.release.contents.get(REGISTRY)!.length, 'the retry sent the whole file');
  t.regex(run.err, /upload of registry-v2\.8\.3\.xz failed \((?:socket hang up|read ECONNRESET|write EPIPE|write ECONNRESET)\)/);
  assertComplete(t, project);
});

test('422 already_exists on an upload: the name is freed and the upload retried', async (t) => {
  // The upload is stored, but its answer is a 422 (as when a lost answer's retry finds the name taken): the asset it left holds the name.
  const { project, run } = await publishWith(t, {
    server: 'uploads', path: REGISTRY_UPLOAD,
    effect: { type: 'store-then-status', status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] } },
  });
  t.is(run.error, undefined, run.all);
  const uploads = registryUploads(project);
  t.deepEqual(uploads.map((u) => u.status), [422, 201]);
  const leftBy422 = project.emulator.snapshots.find((s) => s.request === project.emulator.requests.indexOf(uploads[0]!))?.assets.find((a) => REGISTRY_UPLOAD.test(`name=${a.name}`));
  t.is(leftBy422?.state, 'uploaded', 'the 422 left an asset under the temporary name');
  t.true(project.emulator.deleted.some((d) => d.id === leftBy422?.id), 'that asset was deleted to free the name');
  const freedAt = project.emulator.requests.findIndex((r) => r.method === 'DELETE' && r.path.endsWith(`/releases/assets/${leftBy422?.id}`));
  t.true(freedAt > project.emulator.requests.indexOf(uploads[0]!) && freedAt < project.emulator.requests.indexOf(uploads[1]!), 'freed between the two attempts');
  assertComplete(t, project);
});

test('403 secondary rate limit with retry-after: the upload waits that long, then succeeds', async (t) => {
  const { project, run } = await publishWith(t, {
    server: 'uploads', path: REGISTRY_UPLOAD,
    effect: { type: 'status', status: 403, headers: { 'retry-after': '2' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest' } },
  });
  t.is(run.error, undefined, run.all);
  const uploads = registryUploads(project);
  t.deepEqual(uploads.map((u) => u.status), [403, 201]);
  t.true(uploads[1]!.startedAt - uploads[0]!.endedAt >= 2000, `waited ${Math.round(uploads[1]!.startedAt - uploads[0]!.endedAt)}ms`);
  assertComplete(t, project);
});

test('429 on the API with x-ratelimit-reset: the request waits for the reset, then goes on', async (t) => {
  const reset = String(Math.ceil(Date.now() / 1000) + 1);
  const [wall, mono] = [Date.now(), performance.now()];
  const { project, run } = await publishWith(t, {
    server: 'api', method: 'GET', path: /\/releases\/assets\/\d+$/,
    effect: { type: 'status', status: 429, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, body: { message: 'API rate limit exceeded' } },
  });
  t.is(run.error, undefined, run.all);
  const limited = project.emulator.requests.find((r) => r.status === 429)!;
  const next = project.emulator.requests.find((r) => r.path === limited.path && r.status === 200)!;
  const retriedAt = wall + (next.startedAt - mono);
  t.true(retriedAt >= Number(reset) * 1000 - 50, `retried ${Math.round(Number(reset) * 1000 - retriedAt)}ms before the reset`);
  assertComplete(t, project);
});

test('500 on listing releases: retried with back-off, then the publish completes', async (t) => {
  const { project, run } = await publishWith(t, { server: 'api', method: 'GET', path: /\/releases\?/, times: 2, effect: { type: 'status', status: 500, body: { message: 'Server Error' } } });
  t.is(run.error, undefined, run.all);
  t.deepEqual(project.emulator.requests.filter((r) => /\/releases\?/.test(r.path)).slice(0, 3).map((r) => r.status), [500, 500, 200]);
  assertComplete(t, project);
});

test('listing that keeps failing: a clear error after the retries, and the published release untouched', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  const before = project.emulator.assets(REPO, TAG);
  project.emulator.fault({ server: 'api', method: 'GET', path: /\/releases\/\d+\/assets\?/, times: Infinity, effect: { type: 'status', status: 500, body: { message: 'Server Error' } } });
  project.release = await writeReleaseDir(project.release.dir, { registry: Buffer.from('next build'), auth_server: project.release.contents.get('auth_server-1.14.0.xz')! });
  const writes = project.emulator.writes().length;
  const run = await project.run(['--verbose']);
  t.regex(run.error?.message ?? '', /Server Error.*gave up after 5 attempts/);
  t.is(project.emulator.writes().length, writes);
  t.deepEqual(project.emulator.assets(REPO, TAG), before);
  t.false(run.all.includes(TOKEN));
});

test('an upload that keeps failing: the error names the asset, the previous asset stays, no temporary is left', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  const oldRegistry = project.emulator.content(REPO, TAG, REGISTRY);
  project.release = await writeReleaseDir(project.release.dir, { registry: Buffer.from('next build'.repeat(30000)), auth_server: project.release.contents.get('auth_server-1.14.0.xz')! });
  project.emulator.fault({ server: 'uploads', path: REGISTRY_UPLOAD, times: Infinity, effect: { type: 'fail-after', bytes: 16 * 1024 } });
  const run = await project.run(['--verbose']);
  t.regex(run.error?.message ?? '', /registry-v2\.8\.3\.xz: upload failed: HTTP 502 Server Error \(gave up after 5 attempts\); the previous asset, if any, is still in place/);
  t.deepEqual(project.emulator.content(REPO, TAG, REGISTRY), oldRegistry);
  t.false(assetNames(project.emulator).some((n) => n.startsWith(TEMP_PREFIX)));
  t.is(assetNames(project.emulator).filter((n) => n === REGISTRY).length, 1);
  // The other changed files went through and are verified.
  t.deepEqual(project.emulator.content(REPO, TAG, 'SHA256SUMS'), project.release.contents.get('SHA256SUMS'));
  t.false(run.all.includes(TOKEN));
});

test('a slow server (delayed answers, uploads read at 1 MiB/s) still ends complete', async (t) => {
  const { project, run } = await publishWith(
    t,
    { server: 'api', times: Infinity, effect: { type: 'slow', delayMs: 150 } },
    { server: 'uploads', path: REGISTRY_UPLOAD, effect: { type: 'slow', delayMs: 300, bytesPerSecond: 1024 * 1024 } },
  );
  t.is(run.error, undefined, run.all);
  const upload = registryUploads(project)[0]!;
  t.true(upload.endedAt - upload.startedAt >= 300 + 150);
  assertComplete(t, project);
});

test('a server that stalls past the socket timeout: the attempt is abandoned and retried; a stall on every attempt fails clearly', async (t) => {
  const project = await publishProject(t);
  const files = await filesOf(project.release.dir);
  let err = '';
  const log = new Logger({ level: 'verbose', err: (s) => void (err += s), out: (s) => void (err += s) });
  const publisher = (timeoutMs: number, attempts: number) => new GitHubPublisher({ repo: REPO, tag: TAG, baseUrl: project.emulator.baseUrl, token: TOKEN, log, timeoutMs, retry: { attempts, baseDelayMs: 50, maxDelayMs: 200, maxRateLimitWaitMs: 1000 } });

  // A second is far past what a loopback answer takes; attempts to spare for a machine busy with other work.
  project.emulator.fault({ server: 'uploads', path: REGISTRY_UPLOAD, effect: { type: 'slow', delayMs: 3000 } });
  await publisher(1000, 5).publish(files);
  t.regex(err, /upload of registry-v2\.8\.3\.xz failed \(no data for 1\.0s\); attempt 2/);
  t.deepEqual(assetNames(project.emulator), [...project.release.files].sort());

  project.release = await writeReleaseDir(project.release.dir, { registry: Buffer.from('stalled build'.repeat(10000)), auth_server: project.release.contents.get('auth_server-1.14.0.xz')! });
  const before = project.emulator.content(REPO, TAG, REGISTRY);
  project.emulator.fault({ server: 'uploads', path: REGISTRY_UPLOAD, times: Infinity, effect: { type: 'slow', delayMs: 3000 } });
  const error = await publisher(1000, 3).publish(await filesOf(project.release.dir)).then(() => undefined, (e: Error) => e);
  t.regex(error?.message ?? '', /registry-v2\.8\.3\.xz: upload failed: no data for 1\.0s \(gave up after 3 attempts\)/);
  t.deepEqual(project.emulator.content(REPO, TAG, REGISTRY), before);
  t.false(err.includes(TOKEN));
});

test('a rename that fails after the old asset was deleted: a clear error, the verified copy kept, and the next run renames it without uploading again', async (t) => {
  const project = await publishProject(t);
  t.is((await project.run()).error, undefined);
  project.release = await writeReleaseDir(project.release.dir, { registry: Buffer.from('renamed build'.repeat(20000)), auth_server: project.release.contents.get('auth_server-1.14.0.xz')! });
  const registry = (await filesOf(project.release.dir)).filter((f) => f.name === REGISTRY);
  let err = '';
  const log = new Logger({ level: 'verbose', err: (s) => void (err += s), out: (s) => void (err += s) });
  const publisher = () => new GitHubPublisher({ repo: REPO, tag: TAG, baseUrl: project.emulator.baseUrl, token: TOKEN, log, retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 50, maxRateLimitWaitMs: 1000 } });

  project.emulator.fault({ server: 'api', method: 'PATCH', path: /\/releases\/assets\/\d+$/, times: Infinity, effect: { type: 'status', status: 502, body: { message: 'Server Error' } } });
  const error = await publisher().publish(registry).then(() => undefined, (e: Error) => e);
  t.regex(error?.message ?? '', new RegExp(`registry-v2\\.8\\.3\\.xz: the new copy is uploaded and verified as ${TEMP_PREFIX}\\d{8}T\\d{6}Z-[0-9a-f]{8}-registry-v2\\.8\\.3\\.xz, but putting it in place failed: Server Error.*run publish again`));
  const temp = project.emulator.assets(REPO, TAG).find((a) => (a.name as string).endsWith(`-${REGISTRY}`))!;
  t.is(temp.state, 'uploaded');
  t.is(temp.digest, `sha256:${registry[0]!.sha256}`, 'the good copy is there, under its temporary name');

  project.emulator.clearFaults();
  const uploadsBefore = project.emulator.requests.filter((r) => r.server === 'uploads').length;
  const outcomes = await publisher().publish(registry);
  t.deepEqual(outcomes.map((o) => [o.name, o.action]), [[REGISTRY, 'rename']]);
  t.is(project.emulator.requests.filter((r) => r.server === 'uploads').length, uploadsBefore, 'not uploaded again');
  t.regex(err, new RegExp(`renaming ${TEMP_PREFIX}\\d{8}T\\d{6}Z-[0-9a-f]{8}-registry-v2\\.8\\.3\\.xz to registry-v2\\.8\\.3\\.xz \\(a verified copy left by an interrupted run\\)`));
  t.deepEqual(project.emulator.content(REPO, TAG, REGISTRY), project.release.contents.get(REGISTRY));
  t.false(assetNames(project.emulator).some((n) => n.startsWith(TEMP_PREFIX)));
  t.false(err.includes(TOKEN));
});
