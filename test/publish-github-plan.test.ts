// One decision path for the GitHub target: on a release seeded with what
// interrupted runs and people leave (a draft, a starter asset under a real name,
// a verified copy under a temporary name, a stale and a fresh temporary upload,
// a changed and an identical asset, a file of someone else's), --dry-run writes
// nothing at all, and the real run then does exactly what the dry run said.
import test from 'ava';
import { TEMP_PREFIX } from '../tasks/publish/github.ts';
import type { RecordedRequest } from './helpers/github/emulator.ts';
import { assetNames, publishProject, REPO, TAG, type PublishProject } from './helpers/github/project.ts';

const HOUR = 60 * 60 * 1000;
const STALE = `${TEMP_PREFIX}0badc0de-old-build.xz`;
const FRESH = `${TEMP_PREFIX}20991231T000000Z-12345678-registry-v2.8.3.xz`;
const COPY = `${TEMP_PREFIX}20260101T000000Z-0badc0de-SHA256SUMS`;

function seed(project: PublishProject): void {
  const contents = project.release.contents;
  project.emulator.seedRelease(REPO, {
    tag: TAG,
    draft: true,
    assets: [
      { name: 'registry-v2.8.3.xz', content: contents.get('registry-v2.8.3.xz')! },
      { name: 'registry-v2.8.3.xz.md5', content: contents.get('registry-v2.8.3.xz.md5')! },
      { name: 'auth_server-1.14.0.xz', content: 'an older auth_server build' },
      { name: 'auth_server-1.14.0.xz.md5', content: 'an older md5 line' },
      { name: COPY, content: contents.get('SHA256SUMS')! },
      { name: 'manifest.json', content: '', state: 'starter' },
      { name: STALE, content: 'half of an old upload', ageMs: 2 * HOUR },
      { name: FRESH, content: 'another run, uploading now' },
      { name: 'NOTES.txt', content: 'put there by a person' },
    ],
  });
}

/** The plan's rows: "action name". */
function planRows(out: string): string[] {
  return out.split('\n').map((line) => /^(create|upload|replace|skip|delete|rename|publish) {2,}(\S+)/.exec(line)).filter((m) => m !== null).map((m) => `${m[1]} ${m[2]}`).sort();
}

/** The decisions a real run carried out, read from the write requests it made (and the skips it did not). */
function doneRows(project: PublishProject, writes: readonly RecordedRequest[], seeded: Map<number, { name: string; state: string }>): string[] {
  const replaceable = new Set([...seeded.values()].filter((a) => a.state === 'uploaded').map((a) => a.name));
  const rows = new Set<string>();
  const uploaded = new Set<string>();
  for (const w of writes) {
    const assetId = Number(/\/releases\/assets\/(\d+)$/.exec(w.path)?.[1]);
    if (w.server === 'api' && w.method === 'POST' && /\/releases$/.test(w.path)) rows.add(`create ${w.body?.tag_name}`);
    else if (w.server === 'api' && w.method === 'PATCH' && w.body?.draft === false) rows.add(`publish ${TAG}`);
    else if (w.server === 'uploads') uploaded.add(new URL(w.path, 'http://x').searchParams.get('name')!.replace(/^corpus-kit-tmp-\d{8}T\d{6}Z-[0-9a-f]{8}-/, ''));
    else if (w.method === 'PATCH' && seeded.has(assetId)) rows.add(`rename ${w.body?.name}`);
    else if (w.method === 'DELETE' && seeded.has(assetId)) {
      const { name } = seeded.get(assetId)!;
      // The old asset of a replaced file is deleted as part of its replacement, after the upload.
      if (!(replaceable.has(name) && uploaded.has(name))) rows.add(`delete ${name}`);
    }
  }
  for (const name of uploaded) rows.add(`${replaceable.has(name) ? 'replace' : 'upload'} ${name}`);
  for (const name of project.release.files) if (![...rows].some((r) => r.endsWith(` ${name}`))) rows.add(`skip ${name}`);
  return [...rows].sort();
}

test('--dry-run on a release full of leftovers, starter assets and interrupted-run copies makes no write request and changes nothing', async (t) => {
  const project = await publishProject(t);
  seed(project);
  const assets = project.emulator.assets(REPO, TAG);
  const releases = project.emulator.releases(REPO);
  const plan = await project.run(['--dry-run', '--verbose']);
  t.is(plan.error, undefined, plan.all);
  t.deepEqual(project.emulator.writes(), [], 'zero write requests');
  t.deepEqual(project.emulator.assets(REPO, TAG), assets, 'every asset as it was, times included');
  t.deepEqual(project.emulator.releases(REPO), releases);
  t.regex(plan.out, /^rename +SHA256SUMS +verified copy left as corpus-kit-tmp-20260101T000000Z-0badc0de-SHA256SUMS by an interrupted run$/m);
  t.regex(plan.out, /^delete +manifest\.json +left in state starter by a failed upload$/m);
  t.regex(plan.out, new RegExp(`^delete +${STALE} +temporary upload left by an interrupted run, last changed 120 min ago$`, 'm'));
  t.regex(plan.out, /^replace +auth_server-1\.14\.0\.xz +size differs/m);
  t.regex(plan.out, /^skip +registry-v2\.8\.3\.xz +identical/m);
  t.regex(plan.out, new RegExp(`^publish +${TAG} `, 'm'));
  t.notRegex(plan.out, new RegExp(`${FRESH}|NOTES\\.txt`), 'another run\'s fresh upload and a person\'s file are no business of this run');
});

test('a dry run and the real run make the same decisions on a seeded release', async (t) => {
  const project = await publishProject(t);
  seed(project);
  const seeded = new Map(project.emulator.assets(REPO, TAG).map((a) => [a.id as number, { name: a.name as string, state: a.state as string }]));
  const plan = await project.run(['--dry-run']);
  t.is(plan.error, undefined, plan.all);
  const planned = planRows(plan.out);
  t.true(['rename', 'delete', 'replace', 'upload', 'skip', 'publish'].every((action) => planned.some((row) => row.startsWith(`${action} `))), planned.join('\n'));

  const real = await project.run(['--verbose']);
  t.is(real.error, undefined, real.all);
  t.deepEqual(doneRows(project, project.emulator.writes(), seeded), planned, 'what the real run did is what the dry run planned');
  // The summary's action per file agrees too.
  for (const row of planned.filter((r) => /^(upload|replace|skip|rename) /.test(r))) {
    const [action, name] = row.split(' ');
    t.regex(real.out, new RegExp(`^${name!.replace(/\./g, '\\.')} .* ${action} `, 'm'), row);
  }
  t.regex(real.err, new RegExp(`leaving ${FRESH} alone`));
  t.deepEqual(assetNames(project.emulator), [...project.release.files, FRESH, 'NOTES.txt'].sort());
});
