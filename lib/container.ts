// The container engine through its CLI (docker or podman, from the pillar), so
// DOCKER_HOST, docker contexts and podman's own configuration apply as they
// would for the user's own commands. Nothing here relies on the engine seeing
// this machine's files: caches are named volumes, trees go in and outputs come
// out as tar streams through the CLI, so a remote engine works the same.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { ProcessOutput, ProcessPromise } from 'zx/core';
import type { Context } from './context.ts';
import { UserError } from './errors.ts';

/** An image as the engine has it: its id and labels. */
export interface Image {
  ref: string;
  id: string;
  labels: Record<string, string>;
}

/** The image `ref` names, from one `image inspect`, or undefined when the engine has none. */
export async function inspectImage(ctx: Context, ref: string): Promise<Image | undefined> {
  const out = await ctx.sh({ nothrow: true })`${ctx.pillar.engine} image inspect --format ${'{{.Id}} {{json .Config.Labels}}'} ${ref}`;
  if (out.exitCode !== 0) return undefined;
  const text = out.stdout.trim();
  const cut = text.indexOf(' ');
  const labels = (JSON.parse(text.slice(cut + 1)) as Record<string, string> | null) ?? {};
  return { ref, id: text.slice(0, cut), labels };
}

/** Label on every container and volume the kit makes, so they can be told apart from the user's. */
export const LABEL = 'corpus-kit';

/**
 * Prefix of the kit's volume names: CORPUS_KIT_VOLUME_PREFIX, so separate
 * projects (or tests) can keep separate caches on one engine.
 */
export function volumePrefix(ctx: Context): string {
  const prefix = ctx.env.CORPUS_KIT_VOLUME_PREFIX ?? 'corpus-kit';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) throw new UserError(`CORPUS_KIT_VOLUME_PREFIX: expected letters, digits, '_', '.' or '-', got ${JSON.stringify(prefix)}`);
  return prefix;
}

/** `--mount` for a named volume (never a host path). */
export function volumeMount(volume: string, target: string, readonly = false): string[] {
  return ['--mount', [`type=volume`, `source=${volume}`, `target=${target}`, ...(readonly ? ['readonly'] : [])].join(',')];
}

export function envArgs(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
}

/**
 * Containers run as the calling user, so what they write belongs to that user;
 * rootless podman needs keep-id for that mapping.
 */
export function userArgs(ctx: Context): string[] {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const keepId = basename(ctx.pillar.engine) === 'podman' && uid !== 0 ? ['--userns=keep-id'] : [];
  return [...keepId, '--user', `${uid}:${gid}`];
}

/** The last `count` lines of a command's output: where a build tool says what went wrong. */
export function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

function failure(what: string, out: ProcessOutput): Error {
  return new Error(`${what} failed (exit ${out.exitCode}): ${lastLines(out.stderr, 5)}`);
}

/**
 * A named volume, created when missing (the engine copies the image's content at
 * `target` into it on first mount); returns whether it was created. A volume
 * belongs to root; for another caller its mount point is handed over once,
 * mounted exactly as the builds mount it.
 */
export async function ensureVolume(ctx: Context, name: string, image: string, target: string): Promise<boolean> {
  if ((await ctx.sh({ nothrow: true })`${ctx.pillar.engine} volume inspect ${name}`).exitCode === 0) return false;
  await createVolume(ctx, name);
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return true;
  const owner = `${uid}:${process.getgid?.() ?? 0}`;
  const chown = await ctx.sh({ nothrow: true })`${ctx.pillar.engine} run --rm --network none --user 0:0 ${volumeMount(name, target)} ${image} chown -R ${owner} ${target}`;
  if (chown.exitCode !== 0) throw failure(`handing volume ${name} to ${owner}`, chown);
  return true;
}

async function createVolume(ctx: Context, name: string): Promise<void> {
  const created = await ctx.sh({ nothrow: true })`${ctx.pillar.engine} volume create --label ${LABEL} ${name}`;
  if (created.exitCode !== 0) throw failure(`${ctx.pillar.engine} volume create ${name}`, created);
}

async function removeVolume(ctx: Context, name: string): Promise<void> {
  await ctx.sh({ nothrow: true })`${ctx.pillar.engine} volume rm --force ${name}`;
}

/**
 * A container made from `createArgs` (everything after `create`), removed with its
 * anonymous volumes whatever happens. `env`: values for the engine CLI's own
 * environment, which `--env NAME` arguments pass on without showing them.
 */
export async function withContainer<T>(ctx: Context, createArgs: string[], body: (id: string) => Promise<T>, env: NodeJS.ProcessEnv = {}): Promise<T> {
  const created = await ctx.sh({ nothrow: true, env: { ...ctx.env, ...env } })`${ctx.pillar.engine} create --label ${LABEL} ${createArgs}`;
  if (created.exitCode !== 0) throw failure(`${ctx.pillar.engine} create`, created);
  const id = created.stdout.trim();
  try {
    return await body(id);
  } finally {
    await ctx.sh({ nothrow: true })`${ctx.pillar.engine} rm --force --volumes ${id}`;
  }
}

/** Runs a created container to its end; the output carries its exit code and what it printed. */
export function startAttached(ctx: Context, id: string): Promise<ProcessOutput> {
  return ctx.sh({ nothrow: true })`${ctx.pillar.engine} start --attach ${id}`;
}

/** The content of host directory `dir` into `target` of a container (a directory there: an image path or a mounted volume). */
export async function copyInto(ctx: Context, id: string, dir: string, target: string): Promise<void> {
  await piped(
    ctx.sh({ nothrow: true })`tar --numeric-owner -C ${dir} -c .`, `tar of ${dir} (to copy into the container)`,
    ctx.sh({ nothrow: true })`${ctx.pillar.engine} cp - ${`${id}:${target}`}`, `copying ${dir} into the container`,
  );
}

/** The content of directory `path` of a (stopped) container into host directory `dir`, owned by the caller. */
export async function copyOut(ctx: Context, id: string, path: string, dir: string): Promise<void> {
  await piped(
    ctx.sh({ nothrow: true })`${ctx.pillar.engine} cp ${`${id}:${path}/.`} -`, `${ctx.pillar.engine} cp of ${path} out of the container`,
    ctx.sh({ nothrow: true })`tar -x --no-same-owner -C ${dir}`, `copying ${path} out of the container`,
  );
}

/**
 * `source` piped into `sink`. The source's failure is reported first: when it
 * fails, the sink only complains about an empty or cut-off stream.
 */
async function piped(source: ProcessPromise, sourceWhat: string, sink: ProcessPromise, sinkWhat: string): Promise<void> {
  const out = await source.pipe(sink);
  const sent = await source;
  if (sent.exitCode !== 0) throw failure(sourceWhat, sent);
  if (out.exitCode !== 0) throw failure(sinkWhat, out);
}

/**
 * A new volume holding a copy of host directory `dir`, for `body`, then removed.
 * It is filled through a container that is created and never started.
 */
export async function withTreeVolume<T>(ctx: Context, image: string, dir: string, body: (volume: string) => Promise<T>): Promise<T> {
  const volume = `${volumePrefix(ctx)}-tree-${randomBytes(6).toString('hex')}`;
  try {
    // Root-owned content is fine: builds only read it.
    await createVolume(ctx, volume);
    await withContainer(ctx, ['--network', 'none', ...volumeMount(volume, '/fill'), image, 'true'], (id) => copyInto(ctx, id, dir, '/fill'));
    return await body(volume);
  } finally {
    await removeVolume(ctx, volume);
  }
}

/** Several tree volumes at once (see withTreeVolume), in the order of `dirs`. */
export async function withTreeVolumes<T>(ctx: Context, image: string, dirs: string[], body: (volumes: string[]) => Promise<T>): Promise<T> {
  const [first, ...rest] = dirs;
  if (first === undefined) return body([]);
  return withTreeVolume(ctx, image, first, (volume) => withTreeVolumes(ctx, image, rest, (volumes) => body([volume, ...volumes])));
}
