// The stack's health, as `up` waits for it and `status` reports it: every
// process running past its startsecs, nginx answering GET /v2/ with 200 or 401,
// the registry's /debug/health, redis answering PING with its password, and each
// plugin route's upstream answering HTTP.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { hostPort } from '../plugins/builtin/paths.ts';
import { REGISTRY_API, REGISTRY_ROUTE } from '../plugins/builtin/registry.ts';
import { programViews } from '../plugins/render/programs.ts';
import type { Stack } from '../plugins/stack.ts';
import type { ProcessStatus } from '../lib/supervisor.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** The process whose log explains a failure. */
  process?: string;
}

const PROBE_TIMEOUT_MS = 3000;


/** The status code of one GET, or the error's words. */
function httpStatus(url: string, insecureTls = false): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // A loopback liveness probe of our own nginx: the certificate is checked by clients, not here.
    const req = send(target, { method: 'GET', timeout: PROBE_TIMEOUT_MS, ...(insecureTls ? { rejectUnauthorized: false } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body = (body + chunk).slice(0, 4096)));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', (error) => resolve({ body: '', error: error.message }));
    req.end();
  });
}

/** A RESP command: every argument a bulk string, so a password may hold any byte. */
const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** AUTH then PING; true when redis answers +OK and +PONG. */
function redisPing(host: string, port: number, password: string): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    let answer = '';
    const done = (ok: boolean, detail: string) => {
      socket.destroy();
      resolve({ ok, detail });
    };
    socket.on('connect', () => socket.write(resp('AUTH', password) + resp('PING')));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      const lines = answer.split('\r\n');
      if (lines.length < 3) return;
      // Redis's own error words only (never an echo of what was sent).
      if (lines[0] === '+OK' && lines[1] === '+PONG') done(true, 'PONG');
      else done(false, `answered ${lines.slice(0, 2).map((l) => l.slice(0, 60)).join(' / ')}`);
    });
    socket.on('timeout', () => done(false, `no answer within ${PROBE_TIMEOUT_MS} ms`));
    socket.on('error', (error) => done(false, error.message));
  });
}

/** Each process of the model: running, and for at least its startsecs. */
export function processChecks(stack: Stack, statuses: readonly ProcessStatus[]): Check[] {
  return programViews(stack).map((program) => {
    const status = statuses.find((s) => s.name === program.name);
    const name = `process ${program.name}`;
    if (!status) return { name, ok: false, detail: 'not known to the supervisor', process: program.name };
    const ok = status.state === 'RUNNING' && (status.uptime ?? 0) >= program.startsecs;
    const detail = status.state === 'RUNNING' && !ok ? `running for ${status.uptime}s of its startsecs ${program.startsecs}` : `${status.state}${status.detail ? ` (${status.detail})` : ''}`;
    return { name, ok, detail, process: program.name };
  });
}

/** nginx, the registry's debug endpoint, redis and every plugin route's upstream. */
export async function serviceChecks(stack: Stack): Promise<Check[]> {
  const { pillar } = stack;
  const checks: Promise<Check>[] = [];
  const http = async (name: string, url: string, good: (status: number) => boolean, process: string, expected: string, insecureTls = false): Promise<Check> => {
    const answer = await httpStatus(url, insecureTls);
    const ok = answer.status !== undefined && good(answer.status);
    return { name, ok, detail: answer.status === undefined ? `${url}: ${answer.error}` : `${url}: HTTP ${answer.status}${ok ? '' : ` (expected ${expected})`}`, process };
  };
  if (stack.processes.some((p) => p.value.name === 'nginx')) {
    // force_ssl answers plain HTTP with a redirect: probe the TLS listener then.
    const url = pillar.force_ssl ? `https://127.0.0.1:${pillar.ports.https}${REGISTRY_API}` : `http://127.0.0.1:${pillar.ports.http}${REGISTRY_API}`;
    checks.push(http(`nginx GET ${REGISTRY_API}`, url, (s) => s === 200 || s === 401, 'nginx', '200 or 401', pillar.force_ssl));
  }
  if (stack.processes.some((p) => p.value.name === 'registry')) {
    checks.push(http('registry /debug/health', `http://${pillar.registry.debug_addr}/debug/health`, (s) => s === 200, 'registry', '200'));
  }
  if (stack.processes.some((p) => p.value.name === 'redis')) {
    checks.push(redisPing(pillar.redis.host, pillar.redis.port, stack.secrets.redisPassword).then((r) => ({ name: 'redis PING', ...r, process: 'redis' })));
  }
  for (const { owner, value: route } of stack.routes) {
    if (route.prefix === REGISTRY_ROUTE && owner === 'registry') continue;
    const process = stack.processes.find((p) => p.owner === owner && p.value.ports?.includes(route.upstream.port))?.value.name ?? owner;
    checks.push(http(`route ${route.prefix} (${owner})`, `http://${hostPort(route.upstream.host, route.upstream.port)}${route.prefix}`, (s) => s < 500, process, 'an answer below 500'));
  }
  return Promise.all(checks);
}
