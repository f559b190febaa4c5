// compile: each binary in its builder container, in parallel up to the core
// count, through the engine's CLI only (named volumes and tar streams, no host
// path mounted), so a remote engine (DOCKER_HOST, a docker context) works. The
// output is stored under a content address (commit, builder image id, build
// settings); a stored output whose sha256 still matches is used as is
// ("cached"), a damaged one is rebuilt.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GO_CACHE_LABEL, imageFor } from '../container/recipes.ts';
import type { BinaryArtifact, SourceArtifact } from '../lib/artifacts.ts';
import { installFile, PARTIAL_NAME, PARTIAL_SUFFIX } from '../lib/atomic.ts';
import { binaryLog, nothingSelected, selection, selectOnce, type SelectedBinary } from '../lib/binaries.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { copyOut, ensureVolume, lastLines, startAttached, volumePrefix, withContainer, withTreeVolume, withTreeVolumes, type Image } from '../lib/container.ts';
import { compileArgs, compiledPackages, downloadArgs, GOCACHE_DIR, goCacheVolume, GOMODCACHE_DIR, modCacheVolume, newerGoNeeded, OUT_DIR, planBuild, withDownloadInputs, type GoBuild } from '../lib/gobuild.ts';
import { hashFile } from '../lib/hash.ts';
import type { Pipe } from '../lib/pipe.ts';
import { CORES, mapLimit, settledValues } from '../lib/pool.ts';
import { startProgress } from '../lib/progress.ts';

interface CachedOutput {
  sha256: string;
  size: number;
  builder_image_id: string;
}

const readMeta = (entry: string) => readFile(join(entry, 'meta.json'), 'utf8').then((t) => JSON.parse(t) as CachedOutput);

async function readCached(ctx: Context, entry: string, name: string): Promise<CachedOutput | undefined> {
  const meta = await readMeta(entry).catch(() => undefined);
  if (!meta) return undefined;
  const actual = await hashFile(join(entry, 'binary')).catch(() => undefined);
  if (actual?.sha256 === meta.sha256) return meta;
  binaryLog(ctx, name).warn(`cached output ${entry} is damaged (sha256 ${actual?.sha256 ?? 'unreadable'}, expected ${meta.sha256}); rebuilding`);
  await rm(entry, { recursive: true, force: true });
  return undefined;
}

/**
 * The module cache volume for this go.sum, filled by the module download (with the
 * network) before each compile of a module-layout binary: with every module
 * already there it reads nothing from the network, and Go's own locks make
 * concurrent or interrupted downloads safe, so no completeness marker is needed.
 */
async function moduleCache(ctx: Context, plan: GoBuild, image: Image, tree: string): Promise<string> {
  const volume = modCacheVolume(volumePrefix(ctx), plan.goSum);
  await ensureVolume(ctx, volume, image.ref, GOMODCACHE_DIR);
  if (!plan.goSum) return volume;
  const progress = startProgress(binaryLog(ctx, plan.binary), 'module download');
  const out = await withDownloadInputs(ctx, ({ dirs, env }) => withTreeVolumes(ctx, image.ref, dirs, (inputs) =>
    withContainer(ctx, downloadArgs(ctx, plan, image.ref, { tree, modcache: volume, inputs }, env), (id) => startAttached(ctx, id), env),
  ));
  if (out.exitCode !== 0) {
    progress.fail(`exit ${out.exitCode}`);
    throw new UserError((await newerGoNeeded(ctx, plan, image.ref)) ?? `[${plan.binary}] module download failed (exit ${out.exitCode}):\n${lastLines(out.stderr, 15)}`);
  }
  progress.end(`modules in volume ${volume}`);
  return volume;
}

/**
 * Go's build cache shares no work in flight: binaries compiled at once on an empty
 * cache would each compile the standard library. So on a builder's new cache
 * volume the first build of the run goes alone and the others start once it
 * filled the cache, unless the image brought the standard library with it.
 */
type Leaders = Map<string, Promise<unknown>>;

async function build(ctx: Context, plan: GoBuild, image: Image, source: SourceArtifact, entry: string, leaders: Leaders): Promise<void> {
  const gocache = goCacheVolume(volumePrefix(ctx), image.id);
  // A recipe image whose Go cache holds the standard library already.
  if (image.labels[GO_CACHE_LABEL] === 'std') {
    await ensureVolume(ctx, gocache, image.ref, GOCACHE_DIR);
    return compileInContainer(ctx, plan, image, source, entry, gocache);
  }
  const leader = leaders.get(gocache);
  if (leader) {
    await leader;
    return compileInContainer(ctx, plan, image, source, entry, gocache);
  }
  // Both set before any await, so the binaries that start with this one wait for it.
  const fresh = ensureVolume(ctx, gocache, image.ref, GOCACHE_DIR);
  const compiled = fresh.then(() => compileInContainer(ctx, plan, image, source, entry, gocache));
  // A failed first build lets the others go on (each then reports its own result).
  leaders.set(gocache, fresh.then((isNew) => (isNew ? compiled : undefined)).catch(() => undefined));
  await compiled;
}

async function compileInContainer(ctx: Context, plan: GoBuild, image: Image, source: SourceArtifact, entry: string, gocache: string): Promise<void> {
  const partial = `${entry}${PARTIAL_SUFFIX}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    await withTreeVolume(ctx, image.ref, source.dir, async (tree) => {
      const modcache = plan.layout === 'module' ? await moduleCache(ctx, plan, image, tree) : undefined;
      const progress = startProgress(binaryLog(ctx, plan.binary), `go build ${source.ref} (${plan.layout} layout) in ${image.ref}`);
      let built = '';
      await withContainer(ctx, compileArgs(ctx, plan, image.ref, { tree, gocache, modcache }), async (id) => {
        const out = await startAttached(ctx, id);
        built = compiledPackages(out.stderr);
        if (out.exitCode !== 0) {
          progress.fail(`exit ${out.exitCode}`);
          throw new UserError((await newerGoNeeded(ctx, plan, image.ref)) ?? `[${plan.binary}] go build of ${source.ref} (${source.commit}) failed (exit ${out.exitCode}):\n${lastLines(out.stderr, 20)}`);
        }
        await copyOut(ctx, id, OUT_DIR, partial);
      });
      await rename(join(partial, plan.binary), join(partial, 'binary'));
      const digest = await hashFile(join(partial, 'binary'));
      const meta: CachedOutput = { sha256: digest.sha256, size: digest.size, builder_image_id: image.id };
      await writeFile(join(partial, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
      await rm(entry, { recursive: true, force: true });
      await rename(partial, entry);
      progress.end(`${(digest.size / 1e6).toFixed(1)} MB, sha256 ${digest.sha256.slice(0, 16)}, ${built}`);
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** Removes from dist/bin what left the release, but not another run's copy in progress. */
export async function pruneBinDir(dir: string, kept: ReadonlySet<string>): Promise<void> {
  for (const file of await readdir(dir)) {
    if (kept.has(file) || PARTIAL_NAME.test(file)) continue;
    await rm(join(dir, file), { force: true });
  }
}

async function compileBinary(ctx: Context, binary: SelectedBinary, images: Map<string, Promise<Image>>, leaders: Leaders): Promise<BinaryArtifact> {
  const source = ctx.artifacts.ofKind('source').find((s) => s.binary === binary.name);
  if (!source) throw new Error(`compile: no fetched source for ${binary.name} (the fetch step runs first)`);
  const builder = binary.config.build.builder;
  const builderKey = JSON.stringify(builder);
  if (!images.has(builderKey)) {
    images.set(builderKey, imageFor(ctx, builder, `binaries.${binary.name}.build.builder`));
  }
  const image = await images.get(builderKey)!;
  const plan = await planBuild(binary, source, image.id);
  const entry = join(ctx.paths.cache, 'build', plan.key);
  let meta = await readCached(ctx, entry, binary.name);
  if (meta) binaryLog(ctx, binary.name).info(`cached ${source.ref} (build ${plan.key.slice(0, 12)}), not rebuilt`);
  else {
    await build(ctx, plan, image, source, entry, leaders);
    meta = await readMeta(entry); // written by this build, from the hash of its output
  }
  // A copy, not a link: nothing done to dist/ can damage the cache.
  const path = join(ctx.paths.bin, binary.name);
  await installFile(join(entry, 'binary'), path);
  return {
    kind: 'binary', binary: binary.name, path, stored: join(entry, 'binary'),
    version: source.version, commit: source.commit, builderImageId: image.id, sha256: meta.sha256, size: meta.size,
  };
}

export const compilePipe: Pipe = {
  name: 'compile',
  defaults: selectOnce,
  skip: nothingSelected,
  async run(ctx) {
    const { release, selected } = selection(ctx);
    await mkdir(ctx.paths.bin, { recursive: true });
    const images = new Map<string, Promise<Image>>();
    const leaders: Leaders = new Map();
    // Each binary joins the artifacts as soon as it is built (package starts compressing it while the others compile).
    const results = await mapLimit(selected, CORES, async (binary) => {
      const built = await compileBinary(ctx, binary, images, leaders);
      ctx.artifacts.add(built);
      return built;
    });
    settledValues(results);
    // Binaries that left the release do not stay in dist/bin.
    await pruneBinDir(ctx.paths.bin, new Set(release.map((b) => b.name)));
  },
};
