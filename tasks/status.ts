// status: one line per process from the supervisor's own interface (state,
// pid, uptime, restarts), then the health checks; the last log lines of a
// process that failed. Exit 0 only when all is healthy; --json for scripts.
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { livePid } from '../lib/supervisor.ts';
import { health, lastLogLines, supervisorOf } from './launch.ts';
import { gatherStack } from './render/gather.ts';
import { defineTask } from './task.ts';

function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

async function runStatus(ctx: Context, json: boolean): Promise<void> {
  const stack = await gatherStack(ctx);
  const supervisor = supervisorOf(stack);
  const pid = livePid(supervisor.pidFile);
  if (pid === undefined || !(await supervisor.answering())) {
    if (json) ctx.log.print(JSON.stringify({ running: false, healthy: false, supervisor: { kind: supervisor.kind, pid: pid ?? null } }));
    throw new UserError(`status: the stack is not running (${supervisor.kind}${pid === undefined ? `: no live pid in ${supervisor.pidFile}` : ` pid ${pid} does not answer`})`);
  }
  const state = await health(stack, supervisor);
  const failed = state.statuses.filter((s) => ['FATAL', 'BACKOFF', 'EXITED'].includes(s.state));
  if (json) {
    ctx.log.print(JSON.stringify({ running: true, healthy: state.ok, supervisor: { kind: supervisor.kind, pid }, processes: state.statuses, checks: state.checks }, null, 2));
  } else {
    const width = Math.max(...state.statuses.map((s) => s.name.length));
    const lines = state.statuses.map((s) => `${s.name.padEnd(width)}  ${s.state.padEnd(8)}  pid ${String(s.pid ?? '-').padEnd(7)}  uptime ${duration(s.uptime).padEnd(9)}  restarts ${s.restarts}${s.detail ? `  ${s.detail}` : ''}`);
    const checks = state.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
    const logs = await Promise.all(failed.map(async (s) => `${s.name} ${s.state}:\n${await lastLogLines(stack, s.name)}`));
    ctx.log.print([`${supervisor.kind} pid ${pid}`, ...lines, '', ...checks, ...logs].join('\n'));
  }
  if (!state.ok) throw new UserError(`status: unhealthy: ${state.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`);
}

export const statusTask = defineTask({
  name: 'status',
  description: 'Each process of the running stack (state, pid, uptime, restarts) and the health checks; exit 0 only when healthy',
  flags: ['json'],
  run: (ctx) => runStatus(ctx, ctx.flags.json),
});
