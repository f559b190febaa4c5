// package: <bin>-<version>.xz with .xz.md5 (md5sum format, for old consumers)
// and .xz.sha256, a sorted SHA256SUMS and manifest.json, all written into a
// staging directory that replaces dist/release whole: binaries that left the
// release leave with it, and a failure leaves the previous release as it was.
import { chmod, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import type { Artifact, BinaryArtifact } from '../lib/artifacts.ts';
import { archiveCacheEntry } from '../lib/archive-cache.ts';
import { writeFileAtomic } from '../lib/atomic.ts';
import { binaryLog, nothingSelected, selection, selectOnce } from '../lib/binaries.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { hashFile, type FileDigest } from '../lib/hash.ts';
import type { Logger } from '../lib/logger.ts';
import { MANIFEST_FILE, readManifest, releaseFileNames, sumLine, SUMS_FILE, type Manifest, type ManifestBinary } from '../lib/manifest.ts';
import type { Pipe } from '../lib/pipe.ts';
import { startProgress } from '../lib/progress.ts';
import { CORES, mapLimit, settledValues } from '../lib/pool.ts';
import { OwnedDir } from '../lib/owned-dir.ts';
import { compressFile, decompressedSha256, xzArgs, type XzSettings } from '../lib/xz.ts';

const archiveName = (binary: string, version: string) => `${binary}-${version}.xz`;

/**
 * The archive of a binary, from the archive cache when the same binary was
 * compressed with the same settings before: a no-op release does not spend
 * seconds in xz. A cached archive is used only when it still decompresses to
 * exactly the binary compile verified (its key says what went in, not what
 * came out); what is compressed is the compile output, checked against the
 * same digest.
 */
async function archive(ctx: Context, binary: BinaryArtifact, settings: XzSettings, dest: string): Promise<FileDigest> {
  const log = binaryLog(ctx, binary.binary);
  const cached = cacheEntry(ctx, binary, settings);
  // A compression started while other binaries compiled: its result is checked below like any cached archive.
  const compressedEarly = await early.get(ctx)?.get(cached);
  const meta = await readFile(`${cached}.json`, 'utf8').then((t) => JSON.parse(t) as FileDigest).catch(() => undefined);
  // The copy in the release is what is checked: one read gives its digest, one decompression what it holds.
  const placed = meta && (await place(cached, dest).catch(() => undefined));
  if (placed) {
    if (placed.sha256 === meta.sha256 && (await decompressedSha256(dest)) === binary.sha256) {
      log.info(compressedEarly ? `${basename(dest)} compressed as soon as it was compiled` : `cached ${basename(dest)}, not compressed again`);
      return placed;
    }
    log.warn(`cached archive ${cached} does not hold this binary (sha256 ${binary.sha256.slice(0, 16)}); compressing again`);
  }
  await compressIntoCache(ctx, binary, settings, cached);
  return place(cached, dest);
}

/** The archive cache entry of a binary compressed with `settings`. */
const cacheEntry = (ctx: Context, binary: BinaryArtifact, settings: XzSettings) => archiveCacheEntry(ctx.paths.cache, binary.sha256, settings);

/** Compresses the compile output into the archive cache, with the archive's digest beside it. */
async function compressIntoCache(ctx: Context, binary: BinaryArtifact, settings: XzSettings, cached: string): Promise<void> {
  await mkdir(join(ctx.paths.cache, 'xz'), { recursive: true });
  const progress = startProgress(binaryLog(ctx, binary.binary), `xz ${xzArgs(settings).join(' ')} ${archiveName(binary.binary, binary.version)}`);
  try {
    await compressFile(ctx, binary.stored, cached, settings, binary.sha256);
    const digest = await hashFile(cached);
    await writeFileAtomic(`${cached}.json`, JSON.stringify(digest));
    progress.end(`${(binary.size / 1e6).toFixed(1)} MB -> ${(digest.size / 1e6).toFixed(1)} MB`);
  } catch (error) {
    progress.fail(error);
    throw error;
  }
}

/**
 * Compressions started as soon as compile adds a binary, so one binary's xz
 * runs while the others still compile (on a cold release, the compress of all
 * but the last binary hides behind the compile). By run, by cache entry; a
 * failure is left for archive() to meet again and report.
 */
const early = new WeakMap<Context, Map<string, Promise<boolean>>>();

function compressEarly(ctx: Context): void {
  const started = new Map<string, Promise<boolean>>();
  early.set(ctx, started);
  const settings: XzSettings = { level: ctx.pillar.package.xz_level, extreme: ctx.pillar.package.xz_extreme };
  ctx.artifacts.onAdd((artifact) => {
    if (artifact.kind !== 'binary') return;
    const cached = cacheEntry(ctx, artifact, settings);
    if (started.has(cached)) return;
    started.set(cached, (async () => {
      if (await readFile(`${cached}.json`, 'utf8').catch(() => undefined)) return false;
      await compressIntoCache(ctx, artifact, settings, cached);
      return true;
    })().catch(() => false));
  });
}

/** Copies an archive into the release and hashes the copy. */
async function place(archive: string, dest: string): Promise<FileDigest> {
  await copyFile(archive, dest);
  // xz keeps the binary's mode; an archive is not executable.
  await chmod(dest, 0o644);
  return hashFile(dest);
}

/**
 * With --only, the other binaries' packages come over from the current release,
 * checked against its manifest and against the pillar's pin (a carried package
 * of an older pin would ship silently).
 */
async function carryOver(ctx: Context, name: string, previous: Manifest | undefined, staging: string): Promise<ManifestBinary> {
  const entry = previous?.binaries[name];
  const from = entry && join(ctx.paths.release, entry.file);
  if (!entry || !from || (await hashFile(from).catch(() => undefined))?.sha256 !== entry.sha256) {
    throw new UserError(`--only: ${name} is part of the release but ${ctx.paths.release} holds no intact package of it; run without --only (or add it to --only)`);
  }
  const pinned = ctx.pillar.binaries[name]?.source.ref;
  if (pinned !== entry.ref) {
    throw new UserError(`--only: ${name} in ${ctx.paths.release} is ${entry.ref}, but binaries.${name}.source.ref is now ${pinned}; add ${name} to --only (or run without it)`);
  }
  for (const suffix of ['', '.md5', '.sha256']) await copyFile(`${from}${suffix}`, join(staging, `${entry.file}${suffix}`));
  return entry;
}

/** package.dir is replaced whole on every run: it must not hold (or be) anything else the kit or the user keeps. */
function checkReleaseDir(ctx: Context): void {
  const release = ctx.paths.release;
  const kept = [ctx.cwd, ctx.paths.dist, ctx.paths.bin, ctx.paths.cache, resolve(ctx.cwd, ctx.pillar.publish.local.dir)];
  const clash = kept.find((dir) => dir === release || dir.startsWith(`${release}${sep}`));
  if (clash) throw new UserError(`package.dir: expected a directory of its own (it is replaced on every run), got ${ctx.pillar.package.dir}, which holds ${clash}`);
}

/** A folder that holds exactly the files its manifest lists: a release the kit wrote (before it kept a journal). */
async function isRelease(dir: string): Promise<boolean> {
  const manifest = await readManifest(dir).catch(() => undefined);
  const files = await readdir(dir).catch(() => []);
  return manifest !== undefined && [...files].sort().join('\n') === [...manifest.files].sort().join('\n');
}

export const packagePipe: Pipe = {
  name: 'package',
  defaults(ctx) {
    selectOnce(ctx);
    checkReleaseDir(ctx);
    if (!nothingSelected(ctx)) compressEarly(ctx);
  },
  skip: nothingSelected,
  // The swap is not atomic, and this run's publish must send the release it packaged.
  holds: (ctx) => ctx.paths.releaseLock,
  async run(ctx, log) {
    await new OwnedDir(ctx.paths.release, 'package.dir', isRelease).replace((staging) => packageRelease(ctx, log, staging));
  },
};

async function packageRelease(ctx: Context, log: Logger, staging: string): Promise<void> {
  const release = ctx.paths.release;
  const settings: XzSettings = { level: ctx.pillar.package.xz_level, extreme: ctx.pillar.package.xz_extreme };
  const sources = ctx.artifacts.ofKind('source');
  const built = new Map(ctx.artifacts.ofKind('binary').map((b) => [b.binary, b]));
  const previous = ctx.flags.only.length ? await readManifest(ctx.paths.release) : undefined;
  // Binaries are compressed side by side: a binary smaller than one xz block
  // keeps only one core busy, however many threads xz is given.
  const packaged = settledValues(
    await mapLimit(selection(ctx).release, CORES, async ({ name }) => {
      const binary = built.get(name);
      if (!binary) return { name, entry: await carryOver(ctx, name, previous, staging) };
      const source = sources.find((s) => s.binary === name);
      const file = archiveName(name, binary.version);
      const digest = await archive(ctx, binary, settings, join(staging, file));
      await writeFile(join(staging, `${file}.md5`), sumLine(digest.md5, file));
      await writeFile(join(staging, `${file}.sha256`), sumLine(digest.sha256, file));
      const entry: ManifestBinary = {
        version: binary.version, ref: source?.ref ?? binary.version, commit: binary.commit, builder_image_id: binary.builderImageId,
        file, size: digest.size, sha256: digest.sha256, md5: digest.md5,
      };
      return { name, entry };
    }),
  );
  const binaries: Record<string, ManifestBinary> = Object.fromEntries(packaged.map((p) => [p.name, p.entry]));
  const entries = Object.values(binaries).sort((a, b) => (a.file < b.file ? -1 : 1));
  await writeFile(join(staging, SUMS_FILE), entries.map((e) => sumLine(e.sha256, e.file)).join(''));
  const files = releaseFileNames(entries);
  const manifest: Manifest = { schema: 1, binaries, files };
  await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  // Every binary of the release, carried over by --only or not: publish sends the whole release.
  const produced: Artifact[] = [
    ...Object.entries(binaries).flatMap(([name, e]): Artifact[] => [
      { kind: 'archive', binary: name, path: join(release, e.file), version: e.version, commit: e.commit, size: e.size, sha256: e.sha256, md5: e.md5 },
      ...['.md5', '.sha256'].map((suffix) => ({ kind: 'checksum' as const, path: join(release, `${e.file}${suffix}`), binary: name })),
    ]),
    { kind: 'checksum', path: join(release, SUMS_FILE) },
    { kind: 'manifest', path: join(release, MANIFEST_FILE) },
  ];
  for (const artifact of produced) ctx.artifacts.add(artifact);
  log.info(`${entries.map((e) => e.file).join(', ')} in ${release}`);
}
