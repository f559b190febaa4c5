// doctor: one OK/FAIL line per prerequisite, each FAIL with the fix to apply
// (--json: {ok, checks: [{name, ok, detail, fix?}]} on stdout, nothing else);
// a non-zero exit when a check fails. It reports whether a token is set, never its value.
import { existsSync } from 'node:fs';
import { localId } from '../lib/accounts.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { readLock, type LockFile } from '../lib/lockfile.ts';
import { readToken, TOKEN_ENV } from './publish/token.ts';
import { SYSTEM_PYTHON } from './render/validate.ts';
import { defineTask } from './task.ts';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function commandVersion(ctx: Context, command: string[]): Promise<string | undefined> {
  const out = await ctx.sh({ nothrow: true, timeout: '20s' })`${command}`;
  if (out.exitCode !== 0) return undefined;
  // nginx -v and sshd -V print their version as the last line on stderr.
  return out.stdout.trim() ? out.stdout.trim().split('\n')[0] : out.stderr.trim().split('\n').at(-1);
}

/** The stack's programs (render validates with them, up runs them), each with its install command. */
async function stackPrograms(ctx: Context): Promise<Check[]> {
  const programs: [string, string[], string][] = [
    ['nginx', ['nginx', '-v'], 'apt-get install nginx'],
    ctx.pillar.supervisor === 'circus'
      ? ['circus', ['circusd', '--version'], 'pip install circus (with the python3 that runs it)']
      : ['supervisord', [SYSTEM_PYTHON, '-c', 'import supervisor.options, supervisor; print("supervisor (python3-supervisor)")'], 'apt-get install supervisor'],
    ['redis-server', ['redis-server', '--version'], 'apt-get install redis-server'],
    ['sshd', ['/usr/sbin/sshd', '-V'], 'apt-get install openssh-server'],
    ['openssl', ['openssl', 'version'], 'apt-get install openssl'],
    // The supervisor starts a process that needs secrets through with-secrets.sh, which drops privileges with it.
    ['setpriv', ['setpriv', '--version'], 'apt-get install util-linux'],
  ];
  const checks = await Promise.all(programs.map(async ([name, command, fix]): Promise<Check> => {
    const version = await commandVersion(ctx, command);
    return version ? { name, ok: true, detail: version } : { name, ok: false, detail: `${command[0]} not found or not working`, fix };
  }));
  // sshd -t and sshd refuse to run without it; the ssh service creates it at boot.
  checks.push(existsSync('/run/sshd')
    ? { name: 'sshd privilege separation directory', ok: true, detail: '/run/sshd' }
    : { name: 'sshd privilege separation directory', ok: false, detail: '/run/sshd is missing', fix: 'mkdir -p -m 0755 /run/sshd' });
  return checks;
}

async function editorGroup(ctx: Context): Promise<Check> {
  const { group, gid } = ctx.pillar.editor;
  const found = localId('group', group);
  const fix = `groupadd -g ${gid} ${group} && gpasswd -a "$(whoami)" ${group}`;
  if (found === undefined) return { name: 'editor group', ok: false, detail: `group "${group}" does not exist`, fix };
  if (found !== gid) {
    return { name: 'editor group', ok: false, detail: `group "${group}" has gid ${found}, the pillar says ${gid}`, fix: `groupmod -g ${gid} ${group} (or set editor.gid: ${found})` };
  }
  return { name: 'editor group', ok: true, detail: `${group} (gid ${gid})` };
}

/** The publish step's own token rules, reported instead of thrown. */
function githubToken(ctx: Context): Check {
  const needed = ctx.pillar.publish.target === 'github';
  try {
    readToken(ctx.env, ctx.log);
    return { name: 'GitHub token', ok: true, detail: `${TOKEN_ENV.find((n) => ctx.env[n])} is set` };
  } catch (error) {
    const oldPair = Boolean(ctx.env.GH_USER || ctx.env.GH_PASSWORD);
    if (!needed && !oldPair) return { name: 'GitHub token', ok: true, detail: 'not set (not needed: publish.target is local)' };
    return { name: 'GitHub token', ok: false, detail: (error as Error).message, fix: `export GITHUB_TOKEN=<token> or put it in .env${oldPair ? '; unset GH_USER and GH_PASSWORD' : ''}` };
  }
}

async function pins(ctx: Context): Promise<Check> {
  let lock: LockFile;
  try {
    lock = await readLock(ctx.paths.lock);
  } catch (error) {
    return { name: 'pins', ok: false, detail: (error as Error).message, fix: 'delete it and run `gulp fetch` to write it again' };
  }
  const entries = Object.entries(ctx.pillar.binaries).filter(([, b]) => b.enabled !== false && !b.path);
  const moved = entries.filter(([name, b]) => lock.binaries[name] && lock.binaries[name].ref !== b.source.ref).map(([name, b]) => `${name} ${lock.binaries[name]!.ref} -> ${b.source.ref}`);
  if (moved.length > 0) return { name: 'pins', ok: false, detail: `pillar pins differ from corpus.lock.json: ${moved.join(', ')}`, fix: 'run `gulp fetch` to re-lock' };
  return { name: 'pins', ok: true, detail: entries.map(([name, b]) => `${name}@${b.source.ref}`).join(', ') || 'no binaries to build' };
}

export const doctorTask = defineTask({
  name: 'doctor',
  description: 'Check docker, git, xz, the editor group, tokens (never printed), pins, and the stack\'s programs (nginx, supervisord or circus, redis-server, sshd, openssl, setpriv); --json: the checks as JSON on stdout',
  flags: ['json'],
  async run(ctx) {
    const engine = ctx.pillar.engine;
    const server = await commandVersion(ctx, [engine, 'version', '--format', '{{.Server.Version}}']);
    const git = await commandVersion(ctx, ['git', '--version']);
    const xz = await commandVersion(ctx, ['xz', '--version']);
    const checks: Check[] = [
      server
        ? { name: 'container engine', ok: true, detail: `${engine} daemon ${server}${ctx.env.DOCKER_HOST ? ` at ${ctx.env.DOCKER_HOST}` : ''}` }
        : { name: 'container engine', ok: false, detail: `no ${engine} daemon answers`, fix: 'apt-get install docker.io, then start dockerd (systemctl start docker) or set DOCKER_HOST' },
      git ? { name: 'git', ok: true, detail: git } : { name: 'git', ok: false, detail: 'git not found', fix: 'apt-get install git' },
      xz ? { name: 'xz', ok: true, detail: xz } : { name: 'xz', ok: false, detail: 'xz not found', fix: 'apt-get install xz-utils' },
      await editorGroup(ctx),
      githubToken(ctx),
      await pins(ctx),
      ...(await stackPrograms(ctx)),
    ];
    const failed = checks.filter((c) => !c.ok);
    if (ctx.flags.json) ctx.log.print(JSON.stringify({ ok: failed.length === 0, checks }, null, 2));
    else {
      for (const check of checks) {
        ctx.log.print(`${check.ok ? 'OK  ' : 'FAIL'} ${check.name}: ${check.detail}${check.fix ? `\n     fix: ${check.fix}` : ''}`);
      }
    }
    if (failed.length > 0) throw new UserError(`doctor: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}`);
  },
});
