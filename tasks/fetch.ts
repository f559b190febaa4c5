// fetch: exactly the pinned ref of each binary into the source cache, mirror
// first, shallow where the remote allows; corpus.lock.json checked and written.
// A tag that moved since it was locked stops the run (unless --repin): that is
// how a tampered upstream shows. Any failure leaves the lock as it was.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceArtifact } from '../lib/artifacts.ts';
import { binaryLog, nothingSelected, selection, selectOnce, type SelectedBinary } from '../lib/binaries.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { exportTree, fetchInto, hasCommit, initStore, keepCommit, resolveInStore } from '../lib/git.ts';
import { readLock, updateLock, type LockEntry, type LockFile } from '../lib/lockfile.ts';
import type { Logger } from '../lib/logger.ts';
import type { Pipe } from '../lib/pipe.ts';
import { mapLimit, settledValues } from '../lib/pool.ts';
import { remotesOf, resolveTag, SHA, type Resolved } from '../lib/remote-tag.ts';

/** Network-bound, not CPU-bound: a few remotes at once. */
const PARALLEL_FETCHES = 4;

function sourcePaths(ctx: Context, name: string, commit: string) {
  return { store: join(ctx.paths.cache, 'sources', `${name}.git`), tree: join(ctx.paths.cache, 'trees', commit) };
}

function versionOf(ref: string): string {
  return SHA.test(ref) ? ref.slice(0, 12) : ref;
}

/** Makes sure the store holds `commit`, fetched from the first remote that serves it. */
async function fetchCommit(ctx: Context, binary: SelectedBinary, store: string, resolved: Resolved | undefined, commit: string): Promise<string> {
  const ref = binary.config.source.ref;
  // A tag (resolved) is fetched by name and checked again after; a SHA pin is fetched as itself.
  const refspec = resolved ? `+refs/tags/${ref}:refs/tags/${ref}` : ref;
  const remotes = resolved ? [resolved.remote, ...remotesOf(binary).filter((r) => r !== resolved.remote)] : remotesOf(binary);
  const problems: string[] = [];
  for (const remote of remotes) {
    const error = await fetchInto(ctx, store, remote, refspec);
    if (error) {
      problems.push(`${remote}: ${error}`);
      continue;
    }
    // The tag may have moved between ls-remote and fetch: what was fetched must be what was checked.
    const fetched = resolved ? await resolveInStore(ctx, store, `refs/tags/${ref}`) : (await hasCommit(ctx, store, ref)) ? ref : undefined;
    if (fetched === commit) return remote;
    problems.push(`${remote}: fetched ${fetched ?? 'nothing'} instead of ${commit}`);
  }
  const what = resolved ? `tag "${ref}" (${commit})` : `commit ${ref}`;
  throw new UserError(`binaries.${binary.name}.source: cannot fetch ${what}: ${problems.join('; ')}`);
}

/** A tag that now names another commit than the lock's stops the run, unless --repin accepts it. */
function checkPin(ctx: Context, log: Logger, name: string, pin: LockEntry, locked: LockEntry | undefined, remote = 'the remote'): void {
  if (!locked || locked.ref !== pin.ref || locked.commit === pin.commit) return;
  if (!ctx.flags.repin) {
    throw new UserError(
      `binaries.${name}.source.ref: tag "${pin.ref}" now points to ${pin.commit} at ${remote}, but ${ctx.paths.lock} pins it to ${locked.commit}. ` +
        'A tag that moves can mean a tampered upstream: check the new commit, then run again with --repin to accept it.',
    );
  }
  log.warn(`tag "${pin.ref}" moved from ${locked.commit} to ${pin.commit}; re-pinned (--repin)`);
}

async function fetchBinary(ctx: Context, binary: SelectedBinary, lock: LockFile): Promise<SourceArtifact> {
  const { name, config } = binary;
  const ref = config.source.ref;
  const log = binaryLog(ctx, name);
  const resolved = SHA.test(ref) ? undefined : await resolveTag(ctx, binary);
  const commit = resolved?.commit ?? ref;
  checkPin(ctx, log, name, { ref, commit }, lock.binaries[name], resolved?.remote);
  const { store, tree } = sourcePaths(ctx, name, commit);
  if (existsSync(tree)) {
    log.debug(`source ${ref} (${commit}): cached`);
  } else {
    if (!existsSync(store)) {
      await mkdir(join(store, '..'), { recursive: true });
      await initStore(ctx, store);
    }
    if (!(await hasCommit(ctx, store, commit))) {
      const from = await fetchCommit(ctx, binary, store, resolved, commit);
      log.info(`fetched ${ref} (${commit}) from ${from}`);
    }
    await keepCommit(ctx, store, commit);
    await mkdir(join(tree, '..'), { recursive: true });
    await exportTree(ctx, store, commit, tree);
  }
  return { kind: 'source', binary: name, dir: tree, ref, commit, version: versionOf(ref) };
}

export const fetchPipe: Pipe = {
  name: 'fetch',
  defaults: selectOnce,
  skip: nothingSelected,
  async run(ctx, log) {
    const binaries = selection(ctx).selected;
    // Read first so a moved tag stops the run before any download; checked again under the lock.
    const lock = await readLock(ctx.paths.lock, ctx.flags.repin);
    const results = await mapLimit(binaries, PARALLEL_FETCHES, async (binary) => fetchBinary(ctx, binary, lock));
    const sources = settledValues(results);
    for (const source of sources) ctx.artifacts.add(source);
    const guard = join(ctx.paths.dist, '.corpus.lock.json.lock');
    const wrote = await updateLock(ctx.paths.lock, guard, { repin: ctx.flags.repin, env: ctx.env, onWait: (holder) => log.info(holder) }, (current) => {
      for (const source of sources) {
        const pin = { ref: source.ref, commit: source.commit };
        checkPin(ctx, binaryLog(ctx, source.binary), source.binary, pin, current.binaries[source.binary]);
        current.binaries[source.binary] = pin;
      }
      // A full run drops the pins of binaries that left the release; --only keeps the others'.
      if (ctx.flags.only.length === 0) {
        for (const name of Object.keys(current.binaries)) if (!binaries.some((b) => b.name === name)) delete current.binaries[name];
      }
    });
    if (wrote) ctx.log.info(`wrote ${ctx.paths.lock}`);
    log.info(sources.map((s) => `${s.binary}@${s.ref} (${s.commit.slice(0, 12)})`).join(', '));
  },
};
