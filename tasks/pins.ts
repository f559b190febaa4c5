// pins:outdated: per binary, the upstream tags newer than its pin (semver
// order, pre-releases apart), from `git ls-remote` (the mirror when the
// upstream cannot be reached). Changes nothing.
import semver from 'semver';
import { selectBinaries } from '../lib/binaries.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { lsRemote, RemoteError } from '../lib/git.ts';
import { defineTask } from './task.ts';

interface Tag {
  name: string;
  version: semver.SemVer;
}

/** The semver version a tag names ("v1.2.3" and "1.2.3" alike), or null. */
const semverOf = (tag: string) => semver.parse(tag.replace(/^v(?=\d)/, ''));

function semverTags(refs: Iterable<string>): Tag[] {
  const tags: Tag[] = [];
  for (const ref of refs) {
    const name = ref.replace(/^refs\/tags\//, '');
    const version = semverOf(name);
    if (version) tags.push({ name, version });
  }
  return tags.sort((a, b) => semver.compare(a.version, b.version));
}

/** One report line: what is newer than `ref` among `tags`. */
function outdatedLine(name: string, ref: string, tags: Tag[]): string {
  const current = semverOf(ref);
  const newer = tags.filter((t) => !current || semver.gt(t.version, current));
  const releases = newer.filter((t) => t.version.prerelease.length === 0).map((t) => t.name);
  const pre = newer.filter((t) => t.version.prerelease.length > 0).map((t) => t.name);
  if (!current) {
    const latest = releases.slice(-3).join(', ') || 'none';
    return `${name}: pinned to ${ref} (not a semver tag); latest releases: ${latest}${pre.length ? `; pre-releases: ${pre.slice(-3).join(', ')}` : ''}`;
  }
  if (releases.length === 0 && pre.length === 0) return `${name}: ${ref} is the newest tag`;
  return `${name}: ${ref} -> newer: ${releases.join(', ') || 'none'}${pre.length ? `; pre-releases: ${pre.join(', ')}` : ''}`;
}

async function upstreamTags(ctx: Context, remotes: string[]): Promise<Tag[]> {
  const problems: string[] = [];
  for (const remote of remotes) {
    try {
      return semverTags((await lsRemote(ctx, remote, ['--tags', '--refs'])).keys());
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      problems.push(error.message);
    }
  }
  throw new UserError(problems.join('; '));
}

export const pinsOutdatedTask = defineTask({
  name: 'pins:outdated',
  description: 'List newer upstream tags of each pinned binary (semver order, pre-releases apart)',
  flags: ['only'],
  async run(ctx) {
    const failed: string[] = [];
    for (const { name, config } of selectBinaries(ctx).selected) {
      const remotes = [config.source.git, config.source.mirror].filter((r): r is string => Boolean(r));
      try {
        ctx.log.print(outdatedLine(name, config.source.ref, await upstreamTags(ctx, remotes)));
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        ctx.log.print(`${name}: cannot list tags: ${error.message}`);
        failed.push(name);
      }
    }
    if (failed.length) throw new UserError(`pins:outdated: no tag list for ${failed.join(', ')}`);
  },
});
