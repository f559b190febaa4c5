// image:build: the registry image on the base of image.base (a recipe built
// offline, or a pinned reference), from a context assembled by image-context.ts.
// The classic builder runs with --network none (nothing is downloaded inside);
// its layer cache makes an unchanged re-run a few seconds. Tags
// {image.name}:{version} and {image.name}:{image.dev_tag}, only when the build
// succeeded: a binary that does not match the manifest stops it before the engine
// is asked anything.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { imageFor } from '../container/recipes.ts';
import { inspectImage, lastLines, type Image } from '../lib/container.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { withoutCredentials } from '../pillar/credentials.ts';
import { startProgress } from '../lib/progress.ts';
import { assembleContext, assembleRuntimeContext, KIT_ROOT, kitVersion, runtimeTag, type ImageBinary } from './image-context.ts';
import { defineTask } from './task.ts';

/** Prefix of the labels that describe each installed binary. */
export const BINARY_LABEL = 'io.corpus-kit.binary';

/** This repository's commit and where it comes from (its origin remote). */
async function revision(ctx: Context): Promise<{ commit: string; source: string }> {
  const commit = await ctx.sh({ nothrow: true, cwd: KIT_ROOT })`git rev-parse HEAD`;
  const remote = await ctx.sh({ nothrow: true, cwd: KIT_ROOT })`git config --get remote.origin.url`;
  if (commit.exitCode !== 0) throw new UserError(`image:build: ${KIT_ROOT} is not a git checkout (org.opencontainers.image.revision needs its commit): ${commit.stderr.trim()}`);
  const source = remote.exitCode === 0 && remote.stdout.trim() ? withoutCredentials(remote.stdout.trim()) : `file://${KIT_ROOT}`;
  return { commit: commit.stdout.trim(), source };
}

function imageLabels(version: string, rev: { commit: string; source: string }, binaries: ImageBinary[]): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': 'corpus-kit registry',
    'org.opencontainers.image.version': version,
    'org.opencontainers.image.revision': rev.commit,
    'org.opencontainers.image.source': rev.source,
  };
  for (const b of binaries) {
    labels[`${BINARY_LABEL}.${b.name}.version`] = b.version;
    labels[`${BINARY_LABEL}.${b.name}.commit`] = b.commit;
    labels[`${BINARY_LABEL}.${b.name}.sha256`] = b.sha256;
  }
  return labels;
}

/** The image's tags: {image.name}:{version} and {image.name}:{image.dev_tag}. */
export async function imageTags(ctx: Context): Promise<{ release: string; dev: string }> {
  return { release: `${ctx.pillar.image.name}:${await kitVersion()}`, dev: `${ctx.pillar.image.name}:${ctx.pillar.image.dev_tag}` };
}

/** `docker build` of a context with the classic builder (Debian's docker.io has no BuildKit, and it needs none here), offline. */
async function dockerBuild(ctx: Context, dir: string, args: string[], noCache: boolean): Promise<void> {
  const cache = noCache ? ['--no-cache'] : [];
  const built = await ctx.sh({ nothrow: true, env: { ...ctx.env, DOCKER_BUILDKIT: '0' } })`${ctx.pillar.engine} build --network none --force-rm ${cache} ${args} ${dir}`;
  if (built.exitCode !== 0) throw new UserError(`image:build: ${ctx.pillar.engine} build failed (exit ${built.exitCode}):\n${lastLines(built.stdout + built.stderr, 15)}`);
}

/** A fresh directory under the cache for a build context, removed after `body`. */
async function withContextDir<T>(ctx: Context, what: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(ctx.paths.cache, 'image', `${what}-${process.pid}-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The runtime image (base + the kit's production modules), built when its tag is missing (or always, with noCache). */
async function runtimeImage(ctx: Context, base: Image, noCache: boolean): Promise<string> {
  const tag = await runtimeTag(ctx, base.id);
  if (!noCache && (await inspectImage(ctx, tag))) return tag;
  await withContextDir(ctx, 'runtime', async (dir) => {
    const progress = startProgress(ctx.log, `image:build ${tag}: ${base.ref} with the kit's production modules`);
    try {
      await assembleRuntimeContext(ctx, dir, base.id);
      await dockerBuild(ctx, dir, ['--tag', tag], noCache);
      progress.end('built');
    } catch (error) {
      progress.fail(error);
      throw error;
    }
  });
  return tag;
}

/**
 * `supervisor: circus` needs circusd and circusctl in the image (the base
 * recipe installs them): a base without them would build, then fail at the
 * container's start.
 */
async function requireCircus(ctx: Context, base: Image): Promise<void> {
  const found = await ctx.sh({ nothrow: true })`${ctx.pillar.engine} run --rm --network none --entrypoint sh ${base.id} -c ${'command -v circusd && command -v circusctl'}`;
  if (found.exitCode !== 0) {
    throw new UserError(`image:build: supervisor: circus, but the base image ${base.ref} (image.base) has no circusd and circusctl on PATH; use the recipe registry-trixie (it installs circus), install circus in that image, or set supervisor: supervisord`);
  }
}

/** Builds and tags the image; noCache: every layer above the base again (the base is rebuilt only when its recipe changes). */
export async function runImageBuild(ctx: Context, { noCache = false } = {}): Promise<Image> {
  const base = await imageFor(ctx, ctx.pillar.image.base, 'image.base');
  if (ctx.pillar.supervisor === 'circus') await requireCircus(ctx, base);
  const runtime = await runtimeImage(ctx, base, noCache);
  return withContextDir(ctx, 'context', async (dir) => {
    const { binaries } = await assembleContext(ctx, dir, runtime);
    const tags = await imageTags(ctx);
    const labels = imageLabels(await kitVersion(), await revision(ctx), binaries);
    const progress = startProgress(ctx.log, `image:build ${tags.release} on ${base.ref} (${binaries.map((b) => `${b.name} ${b.version}`).join(', ')})`);
    try {
      await dockerBuild(ctx, dir, [...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), '--tag', tags.release, '--tag', tags.dev], noCache);
      const image = await inspectImage(ctx, tags.release);
      if (!image) throw new Error(`image:build: built, but ${ctx.pillar.engine} does not list ${tags.release}`);
      progress.end(`${image.id.slice(7, 19)}, tagged ${tags.release} and ${tags.dev}`);
      return image;
    } catch (error) {
      progress.fail(error);
      throw error;
    }
  });
}

export const imageBuildTask = defineTask({
  name: 'image:build',
  description: 'Build the registry image on image.base: the kit, the launcher as entrypoint (under tini), and the release binaries verified against manifest.json; tags {image.name}:{version} and :{image.dev_tag}',
  flags: ['rebuild'],
  run: async (ctx) => {
    await runImageBuild(ctx, { noCache: ctx.flags.rebuild });
  },
});
