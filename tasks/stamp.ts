// The release stamp. After a release into a local folder, two things are
// recorded beside package.dir: a digest of every input that decides the outputs
// (the pillar's binaries, package, publish and engine settings, corpus.lock.json,
// the builders' recipe tags or pinned images, the kit's version and modules), and the
// identity of every output (each entry of package.dir, dist/bin and the folder
// the publish target shows, the target's link and its versions folder) and of the cache entries the
// release came from (a damaged one is found by the full run): device, inode, mode, link
// count, size, and mtime and ctime in nanoseconds. Writing, touching, replacing
// or renaming over a file changes its ctime, which no one can set back, so a file
// swapped for other bytes of the same size with its mtime restored still shows.
// A later `release` with the same inputs and outputs, whose tags still name their
// locked commits upstream, is up to date and stops there: no container, no
// decompression, no hashing. Anything else runs every step, which checks
// everything again and records the stamp anew.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { recipeTag } from '../container/recipes.ts';
import { archiveCacheEntry } from '../lib/archive-cache.ts';
import { writeFileAtomic } from '../lib/atomic.ts';
import { binaryLog, selection, selectOnce, type SelectedBinary } from '../lib/binaries.ts';
import type { Context } from '../lib/context.ts';
import { readLock } from '../lib/lockfile.ts';
import { besidePath } from '../lib/owned-dir.ts';
import { readManifest } from '../lib/manifest.ts';
import type { Pipe } from '../lib/pipe.ts';
import { resolveTag, SHA } from '../lib/remote-tag.ts';
import { packageFile } from '../pillar/package-root.ts';
import { localPublishDir, publishTarget } from './publish/index.ts';
import { versionsDir } from './publish/local.ts';

/** Bumped when what the stamp records changes, so an older stamp is not trusted. */
const STAMP_FORMAT = 1;

interface Stamp {
  format: number;
  inputs: string;
  /** The cache entries the release came from (compile outputs, archives): a damaged one is found by the full run. */
  cached: string[];
  /** Identity by path: the outputs and the cache entries. */
  outputs: Record<string, string>;
}

const stampFile = ({ paths }: Context) => besidePath(paths.release, 'stamp.json');

/** The folders of the kit's modules that make a release: the published bundle's (build/), or the sources'. */
const KIT_CODE = ['build', 'lib', 'tasks', 'tasks/publish', 'container', 'pillar'].map((dir) => packageFile(dir));

/**
 * The kit itself: its version, and the size and mtime of each of its modules,
 * so an edited kit (a checkout, a linked install) is not up to date either.
 */
const kitIdentity = async () => {
  const version = JSON.parse(await readFile(packageFile('package.json'), 'utf8')) as { version?: unknown };
  const files = (await Promise.all(KIT_CODE.map(async (dir) => (await readdir(dir).catch(() => [])).map((name) => join(dir, name))))).flat();
  const code = await Promise.all(files.map(async (file) => {
    const s = await lstat(file, { bigint: true });
    return s.isFile() ? `${file}:${s.size}:${s.mtimeNs}` : '';
  }));
  return { version: version.version, code };
};

/** Why this run's outputs are not the whole release of its pillar (so nothing is recorded), or false. */
function unstampable(ctx: Context): string | false {
  if (ctx.flags.dryRun) return '--dry-run publishes nothing';
  if (ctx.flags.only.length > 0) return '--only builds part of the release';
  if (publishTarget(ctx) !== 'local') return 'the github target is checked at GitHub on every run';
  const floating = Object.entries(ctx.pillar.binaries).find(([, b]) => 'image' in b.build.builder && !b.build.builder.image.includes('@sha256:'));
  if (floating) return `binaries.${floating[0]}.build.builder.image is not pinned by digest`;
  return false;
}

/**
 * Every input that decides the release's outputs but its pins, as they are on
 * disk now: the kit, the pillar's settings, the builders.
 */
async function settingsDigest(ctx: Context, release: readonly SelectedBinary[]): Promise<string> {
  const builders = await Promise.all(release.map(async ({ name, config: { build } }) => [name, 'recipe' in build.builder ? await recipeTag(ctx, build.builder.recipe) : build.builder.image]));
  const { binaries, package: pkg, publish, engine } = ctx.pillar;
  const settings = {
    format: STAMP_FORMAT,
    kit: await kitIdentity(),
    pillar: { binaries, package: pkg, publish, engine },
    builders,
    at: [ctx.paths.release, ctx.paths.bin, localPublishDir(ctx)],
  };
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

/** The pins a release is made of: binary -> ref and commit. */
type Pins = Record<string, { ref: string; commit: string }>;

const inputsDigest = (settings: string, pins: Pins) =>
  createHash('sha256').update(JSON.stringify({ settings, pins: Object.entries(pins).sort(([a], [b]) => a.localeCompare(b)) })).digest('hex');

/** The pins corpus.lock.json gives the release's binaries (what the next run would build). */
async function lockedPins(ctx: Context, release: readonly SelectedBinary[]): Promise<Pins> {
  const lock = await readLock(ctx.paths.lock);
  return Object.fromEntries(release.map(({ name }) => [name, { ref: lock.binaries[name]?.ref ?? '', commit: lock.binaries[name]?.commit ?? '' }]));
}

/** The pins this run fetched and built (not the lock on disk now, which a `git pull` during the run may have changed). */
const builtPins = (ctx: Context): Pins => Object.fromEntries(ctx.artifacts.ofKind('source').map((s) => [s.binary, { ref: s.ref, commit: s.commit }]));

/** What changes when anything writes, replaces, renames over, touches, links or removes the entry; and its ctime. */
async function identity(path: string): Promise<[string, bigint]> {
  const s = await lstat(path, { bigint: true }).catch(() => undefined);
  if (!s) return ['missing', 0n];
  const id = `${s.dev}:${s.ino}:${s.mode}:${s.nlink}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  return [s.isSymbolicLink() ? `${id} -> ${await readlink(path)}` : id, s.ctimeNs];
}

/**
 * The file system's clock ticks coarsely (a few ms): a file changed again within
 * the tick of its last change keeps its ctime. So outputs are recorded only once
 * their newest ctime is older than this (git's "racy clean" files, avoided).
 */
const TICK_NS = 50_000_000n;

/** The identity of every output of the release and of the `cached` entries, and the newest ctime among them. */
async function outputs(ctx: Context, release: readonly SelectedBinary[], cached: readonly string[]): Promise<{ ids: Record<string, string>; newest: bigint }> {
  const target = localPublishDir(ctx);
  const shown = await realpath(target).catch(() => undefined);
  const listed = async (dir: string) => [dir, ...(await readdir(dir).catch(() => [])).map((name) => join(dir, name))];
  const paths = [
    ...(await listed(ctx.paths.release)),
    ...(await listed(ctx.paths.bin)),
    ...release.map((b) => join(ctx.paths.bin, b.name)),
    target,
    ...(shown ? await listed(shown) : []),
    // The folder itself: an entry a killed publish left there changes it, and the full run removes the entry.
    versionsDir(target),
    ...cached,
  ];
  const entries = await Promise.all([...new Set(paths)].map(async (path) => [path, ...(await identity(path))] as const));
  return { ids: Object.fromEntries(entries.map(([path, id]) => [path, id])), newest: entries.reduce((max, [, , ctime]) => (ctime > max ? ctime : max), 0n) };
}

/** The first output whose identity differs from the stamp's, or undefined. */
function changedOutput(recorded: Record<string, string>, now: Record<string, string>): string | undefined {
  return [...new Set([...Object.keys(recorded), ...Object.keys(now)])].find((path) => recorded[path] !== now[path]);
}

/** The tag pins whose tag names another commit upstream than the lock's (or cannot be resolved). */
async function movedTags(ctx: Context, release: readonly SelectedBinary[]): Promise<string[]> {
  const lock = await readLock(ctx.paths.lock);
  const moved = await Promise.all(release.filter((b) => !SHA.test(b.config.source.ref)).map(async (binary) => {
    const commit = await resolveTag(ctx, binary).then((r) => r.commit, () => undefined);
    return commit === lock.binaries[binary.name]?.commit ? [] : [binary.name];
  }));
  return moved.flat();
}

/**
 * Whether the last release recorded by the stamp is this run's: the same inputs,
 * every output as it was left, every tag where the lock pins it. Any doubt is a no.
 */
export async function releaseUpToDate(ctx: Context, settingsAtStart: Promise<string>): Promise<boolean> {
  const log = ctx.log.child('release:');
  const why = ctx.flags.force ? '--force' : ctx.flags.repin ? '--repin' : unstampable(ctx);
  const stamp = why ? undefined : await readFile(stampFile(ctx), 'utf8').then((text) => JSON.parse(text) as Stamp, () => undefined);
  if (!stamp || stamp.format !== STAMP_FORMAT) {
    log.debug(`every step runs (${why || 'no release recorded'})`);
    return false;
  }
  const { release } = selection(ctx);
  // Asked at once: with a remote across the network, its answer is what takes longest.
  const tags = movedTags(ctx, release).catch(() => ['corpus.lock.json']);
  const [settings, pins, now] = await Promise.all([settingsAtStart, lockedPins(ctx, release), outputs(ctx, release, stamp.cached)]);
  const inputs = inputsDigest(settings, pins);
  const changed = inputs !== stamp.inputs ? 'the pillar, the pins, a builder or the kit' : changedOutput(stamp.outputs, now.ids);
  const moved = await tags;
  if (changed || moved.length > 0) {
    log.debug(`every step runs (changed since the last release: ${changed ?? `the tag of ${moved.join(', ')}`})`);
    return false;
  }
  const manifest = await readManifest(ctx.paths.release);
  for (const [name, entry] of Object.entries(manifest?.binaries ?? {})) binaryLog(ctx, name).info(`cached ${entry.file} (${entry.ref}, ${entry.commit.slice(0, 12)}), not rebuilt`);
  log.info(`up to date: the inputs, ${ctx.paths.release} and ${localPublishDir(ctx)} are as the last release left them (--force runs every step)`);
  return true;
}

/**
 * The settings of a release, read when it starts: what the stamp records is what
 * the run was given, not what a `git pull` during a long build left on disk.
 */
export function releaseSettings(ctx: Context): Promise<string> {
  selectOnce(ctx);
  return settingsDigest(ctx, selection(ctx).release);
}

/**
 * The last step of `release`: records the stamp, under the release lock package
 * holds (no other run's outputs get this run's inputs), with the pins it built.
 * Settings that changed while it ran (a recipe, the kit) are recorded by no
 * stamp: the next release runs every step.
 */
export const stampPipe = (settingsAtStart: Promise<string>): Pipe => ({
  name: 'stamp',
  skip: unstampable,
  async run(ctx) {
    const { release } = selection(ctx);
    const settings = await settingsAtStart;
    if ((await settingsDigest(ctx, release)) !== settings) {
      ctx.log.child('release:').info('not recorded as up to date: a builder recipe or the kit changed while it ran (the next release runs every step)');
      return;
    }
    const inputs = inputsDigest(settings, builtPins(ctx));
    const xz = { level: ctx.pillar.package.xz_level, extreme: ctx.pillar.package.xz_extreme };
    const cached = ctx.artifacts.ofKind('binary').flatMap((b) => {
      const archive = archiveCacheEntry(ctx.paths.cache, b.sha256, xz);
      return [b.stored, join(dirname(b.stored), 'meta.json'), archive, `${archive}.json`];
    });
    let now = await outputs(ctx, release, cached);
    const wait = now.newest + TICK_NS - BigInt(Date.now()) * 1_000_000n;
    if (wait > 0n) {
      await setTimeout(Number(wait / 1_000_000n) + 1);
      now = await outputs(ctx, release, cached);
    }
    const stamp: Stamp = { format: STAMP_FORMAT, inputs, cached, outputs: now.ids };
    await writeFileAtomic(stampFile(ctx), `${JSON.stringify(stamp, null, 2)}\n`);
  },
});
