// A tag pin resolved at its remotes: the commit a tag names now, from the first
// remote (the mirror, then git) that has it. fetch checks it against
// corpus.lock.json (a moved tag stops the run); the release stamp checks it
// before saying a release is up to date.
import type { SelectedBinary } from './binaries.ts';
import type { Context } from './context.ts';
import { UserError } from './errors.ts';
import { lsRemote, RemoteError } from './git.ts';

/** A full commit SHA: a pin that names itself, with nothing to resolve. */
export const SHA = /^[0-9a-f]{40}$/;

export interface Resolved {
  remote: string;
  commit: string;
}

/** Where a source is fetched from, in the order tried: the mirror, then git. */
export function remotesOf({ config }: SelectedBinary): string[] {
  return [config.source.mirror, config.source.git].filter((r): r is string => Boolean(r));
}

/** Newest tags of a remote for an error message, or nothing when it cannot be listed. */
async function someTags(ctx: Context, remote: string): Promise<string> {
  try {
    const tags = [...(await lsRemote(ctx, remote, ['--tags', '--refs'])).keys()].map((r) => r.slice('refs/tags/'.length));
    return tags.length ? ` (tags there: ${tags.slice(-8).join(', ')})` : ' (it has no tags)';
  } catch {
    return '';
  }
}

/**
 * Answers of this run, by binary and ref: the release's up-to-date check and
 * fetch ask about the same tags, and ls-remote is what takes longest. A failed
 * answer is forgotten, so the next question asks again.
 */
const answers = new WeakMap<Context, Map<string, Promise<Resolved>>>();

/** The commit a tag names, from the first remote (mirror, then git) that has it; asked once per run. */
export function resolveTag(ctx: Context, binary: SelectedBinary): Promise<Resolved> {
  let run = answers.get(ctx);
  if (!run) answers.set(ctx, (run = new Map()));
  const key = `${binary.name}\0${binary.config.source.ref}`;
  let answer = run.get(key);
  if (!answer) {
    answer = resolveAtRemotes(ctx, binary);
    run.set(key, answer);
    answer.catch(() => run.delete(key));
  }
  return answer;
}

async function resolveAtRemotes(ctx: Context, binary: SelectedBinary): Promise<Resolved> {
  const { name, config } = binary;
  const ref = config.source.ref;
  const problems: string[] = [];
  for (const remote of remotesOf(binary)) {
    let refs: Map<string, string>;
    try {
      refs = await lsRemote(ctx, remote, [], [`refs/tags/${ref}`, `refs/tags/${ref}^{}`, `refs/heads/${ref}`]);
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      problems.push(error.message);
      continue;
    }
    const commit = refs.get(`refs/tags/${ref}`);
    if (commit) return { remote, commit };
    if (refs.has(`refs/heads/${ref}`)) {
      throw new UserError(`binaries.${name}.source.ref: "${ref}" is a branch at ${remote}, not a tag; a branch moves, so pin a tag or a full commit SHA`);
    }
    problems.push(`${remote} has no tag "${ref}"${await someTags(ctx, remote)}`);
  }
  throw new UserError(`binaries.${name}.source.ref: cannot resolve tag "${ref}": ${problems.join('; ')}`);
}

