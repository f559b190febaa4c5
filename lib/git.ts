// git through the CLI: list a remote's refs, fetch one commit (shallow when the
// remote allows it) into a bare store, export a commit's tree. Never prompts:
// an unreachable or private remote fails instead of waiting for a password.
import { mkdir, rename, rm } from 'node:fs/promises';
import { decodeUrlPart, scrubUrls, urlCredentials, withoutCredentials } from '../pillar/credentials.ts';
import { PARTIAL_SUFFIX } from './atomic.ts';
import type { Context } from './context.ts';

export class RemoteError extends Error {}

function gitEnv(ctx: Context): NodeJS.ProcessEnv {
  return {
    ...ctx.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: ctx.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
  };
}

function git(ctx: Context, env: NodeJS.ProcessEnv = {}) {
  return ctx.sh({ nothrow: true, env: { ...gitEnv(ctx), ...env } });
}

/**
 * The URL git is given and the environment that carries its credentials: an
 * https remote's user and password go in an Authorization header set through
 * GIT_CONFIG_* (scoped to the remote's origin), so they are never on a command
 * line (ps, the --verbose echo) nor in git's own messages. Any other URL is
 * given without its credentials (ssh never takes a password from the URL; one
 * the URL parser refuses would not work anyway). The credentials themselves
 * are masked in the log, however the URL is shown.
 */
function remoteCall(ctx: Context, remote: string): { url: string; env: NodeJS.ProcessEnv } {
  for (const value of urlCredentials(remote)) ctx.log.addSecret(value);
  const url = URL.canParse(remote) ? new URL(remote) : undefined;
  if (!url || !/^https?:$/.test(url.protocol) || (!url.username && !url.password)) return { url: withoutCredentials(remote), env: {} };
  const header = `Authorization: Basic ${Buffer.from(`${decodeUrlPart(url.username)}:${decodeUrlPart(url.password)}`).toString('base64')}`;
  ctx.log.addSecret(header);
  const index = Number(ctx.env.GIT_CONFIG_COUNT ?? 0) || 0; // after any GIT_CONFIG_* the user set
  url.username = '';
  url.password = '';
  return {
    url: url.href,
    env: { GIT_CONFIG_COUNT: String(index + 1), [`GIT_CONFIG_KEY_${index}`]: `http.${url.origin}/.extraHeader`, [`GIT_CONFIG_VALUE_${index}`]: header },
  };
}

/** A transfer from a remote slower than 1 kB/s for 30 s fails instead of hanging. */
const GIVE_UP_STALLED = ['-c', 'http.lowSpeedLimit=1000', '-c', 'http.lowSpeedTime=30'];

/** What git said went wrong: its fatal/error lines, without the advice boilerplate. */
function gitError(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /^(fatal|error):/.test(l) && !/Could not read from remote repository/.test(l));
  return (errors.length ? errors.slice(0, 2) : lines.slice(-3)).join(' / ');
}

/** refname → commit, annotated tags peeled to the commit they point to. */
export async function lsRemote(ctx: Context, remote: string, options: string[] = [], patterns: string[] = []): Promise<Map<string, string>> {
  const call = remoteCall(ctx, remote);
  const out = await git(ctx, call.env)`git ${GIVE_UP_STALLED} ls-remote ${options} ${call.url} ${patterns}`;
  if (out.exitCode !== 0) throw new RemoteError(`${scrubUrls(remote)} is unreachable: ${gitError(out.stderr) || `git ls-remote exit ${out.exitCode}`}`);
  const refs = new Map<string, string>();
  for (const line of out.stdout.split('\n')) {
    const [sha, name] = line.split('\t');
    if (!sha || !name) continue;
    if (name.endsWith('^{}')) refs.set(name.slice(0, -3), sha);
    else if (!refs.has(name)) refs.set(name, sha);
  }
  return refs;
}

export async function initStore(ctx: Context, store: string): Promise<void> {
  const out = await git(ctx)`git init --quiet --bare ${store}`;
  if (out.exitCode !== 0) throw new Error(`git init ${store}: ${gitError(out.stderr)}`);
}

export async function hasCommit(ctx: Context, store: string, commit: string): Promise<boolean> {
  return (await git(ctx)`git --git-dir=${store} cat-file -e ${`${commit}^{commit}`}`).exitCode === 0;
}

/**
 * Fetches `refspec` from `remote` into the store: one commit deep first, the whole
 * history when the remote cannot serve a shallow fetch (dumb http, old servers,
 * a SHA that is not a ref tip). Returns the error text of the last try, or undefined.
 */
export async function fetchInto(ctx: Context, store: string, remote: string, refspec: string): Promise<string | undefined> {
  const call = remoteCall(ctx, remote);
  let error: string | undefined;
  for (const depth of [['--depth=1'], []]) {
    const out = await git(ctx, call.env)`git ${GIVE_UP_STALLED} --git-dir=${store} fetch --quiet --no-tags --no-write-fetch-head ${depth} ${call.url} ${refspec}`;
    if (out.exitCode === 0) return undefined;
    error = gitError(out.stderr) || `git fetch exit ${out.exitCode}`;
  }
  return error;
}

/** Keeps a fetched commit from being pruned by git gc, whatever happens to the tag. */
export async function keepCommit(ctx: Context, store: string, commit: string): Promise<void> {
  const out = await git(ctx)`git --git-dir=${store} update-ref ${`refs/kept/${commit}`} ${commit}`;
  if (out.exitCode !== 0) throw new Error(`git update-ref in ${store}: ${gitError(out.stderr)}`);
}

export async function resolveInStore(ctx: Context, store: string, ref: string): Promise<string | undefined> {
  const out = await git(ctx)`git --git-dir=${store} rev-parse --verify --quiet ${`${ref}^{commit}`}`;
  return out.exitCode === 0 ? out.stdout.trim() : undefined;
}

/**
 * The exact tree of `commit` in `dest` (no .git, so nothing in it can change
 * what is built), written beside it and renamed into place when complete.
 */
export async function exportTree(ctx: Context, store: string, commit: string, dest: string): Promise<void> {
  const partial = `${dest}${PARTIAL_SUFFIX}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const out = await git(ctx, { GIT_INDEX_FILE: `${partial}.index` })`git --git-dir=${store} --work-tree=${partial} -c core.autocrlf=false read-tree --reset -u ${commit}`;
  await rm(`${partial}.index`, { force: true });
  if (out.exitCode !== 0) {
    await rm(partial, { recursive: true, force: true });
    throw new Error(`exporting ${commit} from ${store}: ${gitError(out.stderr)}`);
  }
  try {
    await rename(partial, dest);
  } catch (error) {
    // Another run exported the same commit first: its tree is the same.
    await rm(partial, { recursive: true, force: true });
    if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}
