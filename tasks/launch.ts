// What up, down, status and reconfigure share: the supervisor of the rendered
// stack, the service user and privileged-port checks, the data directories,
// waiting for health, the summary, and a stop that leaves nothing behind.
import { existsSync, readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { localId } from '../lib/accounts.ts';
import type { Context } from '../lib/context.ts';
import { ensureDir } from '../lib/dirs.ts';
import { UserError } from '../lib/errors.ts';
import { alive, livePid, procStat, type ProcessStatus, type Supervisor } from '../lib/supervisor.ts';
import { circus } from '../lib/supervisor-circus.ts';
import { supervisord } from '../lib/supervisor-supervisord.ts';
import { hostPort } from '../plugins/builtin/paths.ts';
import { programViews } from '../plugins/render/programs.ts';
import { freezeStack, type Stack } from '../plugins/stack.ts';
import { caAccess } from './ca.ts';
import { processChecks, serviceChecks, type Check } from './launch-health.ts';

/** How long `up` waits for a healthy stack. */
export const HEALTH_TIMEOUT_MS = 90_000;
const LOG_LINES = 20;

/**
 * The stack's processes and paths without reading any secret: enough to find
 * and stop the supervisor, so that `down` works even when a password's
 * environment variable is not set in this shell.
 */
export function stackWithoutSecrets(ctx: Context): Stack {
  return freezeStack(ctx.pillar, ctx.plugins, { secrets: { users: {}, redisPassword: '', httpSecret: '' }, authorizedKeys: [] });
}

export function supervisorOf(stack: Stack): Supervisor {
  const { etc, run, log } = stack.paths;
  return stack.pillar.supervisor === 'circus'
    ? circus({ config: join(etc, 'circus', 'circus.ini'), endpoint: join(run, 'circus.sock'), pidFile: join(run, 'circusd.pid'), logFile: join(log, 'circusd.log') })
    : supervisord({ config: join(etc, 'supervisor', 'supervisord.conf'), socket: join(run, 'supervisor.sock'), pidFile: join(run, 'supervisord.pid'), logFile: join(log, 'supervisord.log') });
}

/** The supervisor's pid when it runs and answers. */
export async function runningSupervisor(supervisor: Supervisor): Promise<number | undefined> {
  const pid = livePid(supervisor.pidFile);
  return pid !== undefined && (await supervisor.answering()) ? pid : undefined;
}

export interface ServiceIds {
  uid: number;
  gid: number;
}

/** As root, the pillar's user and group must exist (the processes switch to them); otherwise they run as the invoking user. */
export function serviceIds(stack: Stack): ServiceIds | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const { user, group } = stack.pillar;
  const gid = localId('group', group);
  const uid = localId('passwd', user);
  if (gid === undefined) throw new UserError(`group: the service group "${group}" does not exist (create it: groupadd --system ${group})`);
  if (uid === undefined) throw new UserError(`user: the service user "${user}" does not exist (create it: useradd --system --gid ${group} --home-dir /nonexistent --shell /usr/sbin/nologin ${user})`);
  return { uid, gid };
}

/** Ports below 1024 need root: said before anything starts, not after a crash. */
export function checkPrivilegedPorts(stack: Stack): void {
  if (process.getuid?.() === 0) return;
  const low = stack.processes.flatMap(({ value }) => (value.ports ?? []).filter((port) => port < 1024).map((port) => `${port} (${value.name})`));
  if (low.length > 0) throw new UserError(`ports below 1024 need root: ${low.join(', ')}; run up as root, or set ports.http/ports.https and the others to 1024 or above`);
}

/** The service user must be able to walk down to {data_root}: said before starting, not as a spawn error per process. */
export async function checkReachable(stack: Stack, ids: ServiceIds | undefined): Promise<void> {
  if (!ids) return;
  for (let dir = dirname(stack.paths.data); ; dir = dirname(dir)) {
    const info = await stat(dir);
    const bit = info.uid === ids.uid ? 0o100 : info.gid === ids.gid ? 0o010 : 0o001;
    if (!(info.mode & bit)) {
      throw new UserError(`data_root: the service user "${stack.pillar.user}" cannot reach ${stack.paths.data}: ${dir} is mode ${(info.mode & 0o777).toString(8)} (owner ${info.uid}, group ${info.gid}); allow it to traverse (chmod o+x ${dir}) or choose another data_root`);
    }
    if (dir === dirname(dir)) return;
  }
}

/** {data_root}: images and the redis dir owned by the service user; logs and run for root and the service group; secrets root-only. */
export async function prepareDataRoot(stack: Stack, ids: ServiceIds | undefined): Promise<void> {
  const { data, images, log, run } = stack.paths;
  const dirs: [string, number, 'service' | 'group' | 'root'][] = [
    // Made 0700 when `ca` or the secrets created it first: the services must traverse it.
    [data, 0o750, 'group'],
    [images, 0o750, 'service'],
    [join(data, 'redis'), 0o750, 'service'],
    [log, 0o750, 'group'],
    [run, 0o750, 'group'],
    // nginx's workers (the service user) write request bodies here.
    [join(run, 'nginx'), 0o750, 'service'],
    [join(data, 'secrets'), 0o700, 'root'],
    [stack.paths.ssh, 0o750, 'root'],
  ];
  for (const [dir, mode, owner] of dirs) {
    await ensureDir(dir, mode, ids && { uid: owner === 'service' ? ids.uid : 0, gid: owner === 'root' ? 0 : ids.gid });
  }
  await ensureDir(stack.paths.ca, 0o700);
  await caAccess(stack.paths.ca, ids);
}

export interface Health {
  ok: boolean;
  statuses: ProcessStatus[];
  checks: Check[];
}

export async function health(stack: Stack, supervisor: Supervisor): Promise<Health> {
  const statuses = await supervisor.processes();
  const processes = processChecks(stack, statuses);
  // Services are probed once their processes run; before, the process state says more.
  const checks = [...processes, ...(processes.every((c) => c.ok) ? await serviceChecks(stack) : [])];
  return { ok: checks.every((c) => c.ok) && processes.length > 0, statuses, checks };
}

/** Polls until healthy, the supervisor dies, or the timeout; returns the last look. */
export async function waitHealthy(stack: Stack, supervisor: Supervisor, supervisorPid: () => boolean, timeoutMs = HEALTH_TIMEOUT_MS): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  let last: Health = { ok: false, statuses: [], checks: [{ name: supervisor.kind, ok: false, detail: 'its control interface did not answer' }] };
  while (Date.now() < deadline && supervisorPid()) {
    // A supervisor that does not answer yet fails to list its processes: no separate question first
    // (with circus, each question is a python start).
    const now = await health(stack, supervisor).catch(() => undefined);
    if (now) {
      last = now;
      if (last.ok) return last;
      // A FATAL process will not come back by waiting.
      if (last.statuses.some((s) => s.state === 'FATAL')) return last;
    }
    await sleep(500);
  }
  return last;
}

/** The last lines of a process's log (masked by the caller's logger). */
export async function lastLogLines(stack: Stack, name: string, lines = LOG_LINES): Promise<string> {
  const program = programViews(stack).find((p) => p.name === name);
  const file = program?.logFile || join(stack.paths.log, `${name}.log`);
  if (!program?.logFile && !existsSync(file)) return `  (${name} logs to the supervisor's output)`;
  const text = await readFile(file, 'utf8').catch(() => '');
  const tail = text.split('\n').filter(Boolean).slice(-lines);
  return tail.length > 0 ? `  last lines of ${file}:\n${tail.map((l) => `    ${l}`).join('\n')}` : `  ${file} is empty`;
}

/** The failing checks, each with the last lines of the log of the process behind it. */
export async function failureReport(stack: Stack, checks: readonly Check[]): Promise<string> {
  const failing = checks.filter((c) => !c.ok);
  const parts: string[] = [];
  const shown = new Set<string>();
  for (const check of failing) {
    parts.push(`  - ${check.name}: ${check.detail}`);
    if (check.process && !shown.has(check.process)) {
      shown.add(check.process);
      parts.push(await lastLogLines(stack, check.process));
    }
  }
  return parts.join('\n');
}

/** Where each user's password comes from: generated ones by the file that stores them, never the value. */
function passwordSources(ctx: Context): string[] {
  return Object.entries(ctx.pillar.users).map(([name, user]) => {
    const value = user.password as null | string | { env: string };
    const where = value === null ? `generated, stored in ${join(ctx.secrets.dir, `users.${name}.password`)}` : typeof value === 'string' ? 'set in the pillar' : `from the environment variable ${value.env}`;
    return `${name} (password ${where})`;
  });
}

export function summary(ctx: Context, stack: Stack, supervisor: Supervisor, pid: number, statuses: readonly ProcessStatus[]): string {
  const { pillar } = stack;
  const https = pillar.ports.https === 443 ? '' : `:${pillar.ports.https}`;
  const http = pillar.ports.http === 80 ? '' : `:${pillar.ports.http}`;
  const auth = pillar.auth.mode === 'token' ? `token (docker_auth at https://${pillar.domain}${https}${pillar.auth_server.route}, realm ${stack.token.realm})` : 'htpasswd (nginx basic auth; the acl enforced by nginx)';
  const routes = stack.routes.filter((r) => r.owner !== 'registry').map((r) => `${r.value.prefix} -> ${hostPort(r.value.upstream.host, r.value.upstream.port)} (${r.owner})`);
  return [
    `up: the stack is healthy (${supervisor.kind} pid ${pid}, ${statuses.length} processes: ${statuses.map((s) => `${s.name} ${s.pid}`).join(', ')})`,
    `  registry: https://${pillar.domain}${https}/v2/  (also http://${pillar.domain}${http}/v2/${pillar.force_ssl ? ', redirected to https' : ''})`,
    `  auth: ${auth}`,
    `  users: ${passwordSources(ctx).join('; ')}`,
    ...(routes.length > 0 ? [`  routes: ${routes.join('; ')}`] : []),
    ...(stack.processes.some((p) => p.value.name === 'sshd') ? [`  sshd: ${pillar.sshd.host}:${pillar.sshd.port}, ${stack.authorizedKeys.length} authorized key(s) from ${join(stack.paths.ssh, 'authorized_keys.d')}/`] : []),
    `  TLS: ${stack.tls.certificate}`,
    `  logs: ${stack.paths.log}/`,
  ].join('\n');
}

/** Process groups of every process on the machine, by pid (from /proc). */
function processGroups(): Map<number, number> {
  // A zombie has exited (its parent has not reaped it yet): not running.
  const groups = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(entry); // undefined: gone meanwhile
    if (fields && fields[0] !== 'Z') groups.set(Number(entry), Number(fields[2]));
  }
  return groups;
}

/** The pids still alive among `pids` and in their process groups. */
function survivors(pids: readonly number[]): number[] {
  const groups = processGroups();
  const watched = new Set(pids);
  return [...groups].filter(([pid, group]) => watched.has(pid) || watched.has(group)).map(([pid]) => pid).filter((pid) => pid !== process.pid);
}

/**
 * Stops the stack through its supervisor (each process with its stop signal,
 * within its stopwaitsecs), waits for the supervisor to exit, then checks by
 * pid and process group that nothing is left. Returns the pids that were
 * stopped; throws naming any survivor (after killing it by pid).
 */
export async function stopStack(stack: Stack, supervisor: Supervisor, pid: number): Promise<number[]> {
  const statuses = await supervisor.processes().catch(() => []);
  const pids = [pid, ...statuses.flatMap((s) => (s.pid ? [s.pid] : []))];
  await supervisor.shutdown();
  // The longest stop timeout of the stack's processes, and a margin.
  const waitSeconds = Math.max(1, ...programViews(stack).map((p) => p.stopwaitsecs)) + 5;
  const deadline = Date.now() + waitSeconds * 1000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  const left = survivors(pids);
  if (left.length > 0) {
    for (const survivor of left) {
      try {
        process.kill(survivor, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    throw new UserError(`down: ${supervisor.kind} did not stop every process: pids ${left.join(', ')} were still running after ${waitSeconds}s and were killed`);
  }
  return pids;
}
