// The committed corpus.lock.json: it pins the default pillar's refs to the
// commits their tags named upstream, so the moved-tag check already guards the
// first build on a fresh clone (nothing to compare against otherwise).
import test from 'ava';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FIXTURES, buildProject, LDFLAGS } from './helpers/build-project.ts';
import { UpstreamRepo } from './helpers/gitrepo.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';

test.before(() => requireCommands('git'));

interface Lock {
  schema: number;
  binaries: Record<string, { ref: string; commit: string }>;
}
const committedLock = async () => JSON.parse(await readFile(join(REPO_ROOT, 'corpus.lock.json'), 'utf8')) as Lock;
const defaults = async () => parse(await readFile(join(REPO_ROOT, 'pillar/defaults.yml'), 'utf8')) as { binaries: Record<string, { source: { ref: string } }> };

/** The commits the default tags name upstream (distribution's v2.8.3 is an annotated tag: its commit, not the tag object). */
const UPSTREAM_COMMITS: Record<string, string> = {
  registry: '4772604ae973031ab32dd9805a4bccf61d94909f',
  auth_server: 'd3f46f7998ec6ce0abc4c235a35449c58d240f73',
};

test('the committed corpus.lock.json pins every default binary\'s ref to its upstream commit, and nothing else', async (t) => {
  const lock = await committedLock();
  const pins = Object.fromEntries(Object.entries((await defaults()).binaries).map(([name, b]) => [name, { ref: b.source.ref, commit: UPSTREAM_COMMITS[name] }]));
  t.deepEqual(lock, { schema: 1, binaries: pins });
});

test('on a fresh clone, a default pin whose tag now names another commit stops the first fetch (the committed lock protects it)', async (t) => {
  const project = await buildProject(t, { names: [] });
  // Upstreams that serve the default tags on other commits: what a moved (tampered) tag looks like.
  const pins = (await defaults()).binaries;
  for (const [name, fixture] of [['registry', 'vendored'], ['auth_server', 'legacy']] as const) {
    const upstream = await UpstreamRepo.create(join(project.cwd, 'upstream'), name, join(FIXTURES, fixture));
    upstream.tag(pins[name]!.source.ref);
    project.binaries[name] = { source: { git: upstream.bare, ref: pins[name]!.source.ref }, build: { builder: { recipe: 'golang-bookworm' }, ldflags: LDFLAGS, package: '.' } };
  }
  await project.save();
  // A clone holds the repository's lock.
  await copyFile(join(REPO_ROOT, 'corpus.lock.json'), join(project.cwd, 'corpus.lock.json'));
  const before = await readFile(join(project.cwd, 'corpus.lock.json'), 'utf8');
  const run = await project.run('fetch');
  for (const [name, commit] of Object.entries(UPSTREAM_COMMITS)) {
    t.regex(run.error?.message ?? '', new RegExp(`binaries\\.${name}\\.source\\.ref: tag "${pins[name]!.source.ref.replace(/\./g, '\\.')}" now points to [0-9a-f]{40} .* pins it to ${commit}`), run.err);
  }
  t.is(await readFile(join(project.cwd, 'corpus.lock.json'), 'utf8'), before);
});
