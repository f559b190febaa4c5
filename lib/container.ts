// The container engine through its CLI (docker or podman, from the pillar), so
// DOCKER_HOST, docker contexts and podman's own configuration apply as they
// would for the user's own commands.
import { basename } from 'node:path';
import type { Context } from './context.ts';

export async function imageId(ctx: Context, ref: string): Promise<string | undefined> {
  const out = await ctx.sh({ nothrow: true })`${ctx.pillar.engine} image inspect --format {{.Id}} ${ref}`;
  return out.exitCode === 0 ? out.stdout.trim() : undefined;
}

/** `--mount` for a bind mount; CSV-quoted, so paths with commas or colons stay whole. */
export function bindMount(source: string, target: string, readonly = false): string[] {
  const field = (value: string) => (/[",]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return ['--mount', [`type=bind`, field(`source=${source}`), field(`target=${target}`), ...(readonly ? ['readonly'] : [])].join(',')];
}

/**
 * Containers run as the calling user, so what they write into the cache and dist/
 * belongs to that user; rootless podman needs keep-id for that mapping.
 */
export function userArgs(ctx: Context): string[] {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const keepId = basename(ctx.pillar.engine) === 'podman' && uid !== 0 ? ['--userns=keep-id'] : [];
  return [...keepId, '--user', `${uid}:${gid}`];
}
