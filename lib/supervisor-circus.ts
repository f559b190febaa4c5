// circus behind the launcher's Supervisor interface, through circusctl on its
// ipc endpoint (circus speaks ZeroMQ; circusctl is its own client). circus
// tracks no start times or restart counts: uptime comes from /proc, restarts
// from circusd's debug log ("running <watcher> process [pid N]").
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { countStarts, processAge, type ProcessStatus, type Supervisor } from './supervisor.ts';

const run = promisify(execFile);

export interface CircusFiles {
  config: string;
  endpoint: string;
  pidFile: string;
  logFile: string;
}

export function circus(files: CircusFiles): Supervisor {
  const ctl = async (...args: string[]): Promise<Record<string, unknown>> => {
    const { stdout } = await run('circusctl', ['--endpoint', `ipc://${files.endpoint}`, '--timeout', '30', '--json', ...args], { timeout: 60_000 });
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    if (answer.status === 'error') throw new Error(`circusctl ${args.join(' ')}: ${String(answer.reason)}`);
    return answer;
  };
  return {
    kind: 'circus',
    pidFile: files.pidFile,
    logFile: files.logFile,
    command: () => ['circusd', '--log-level', 'debug', '--log-output', files.logFile, files.config],
    async answering() {
      if (!existsSync(files.endpoint)) return false;
      try {
        await ctl('status');
        return true;
      } catch {
        return false;
      }
    },
    async processes() {
      const { statuses } = (await ctl('status')) as { statuses: Record<string, string> };
      const starts = countStarts(files.logFile, /Starting master on pid/, /running (\S+) process \[pid \d+\]/);
      return Promise.all(Object.entries(statuses).map(async ([name, status]): Promise<ProcessStatus> => {
        const { pids } = (await ctl('list', name)) as { pids: number[] };
        const pid = pids[0] ?? null;
        const state = status === 'active' ? (pid ? 'RUNNING' : 'BACKOFF') : status === 'stopping' ? 'STOPPING' : 'STOPPED';
        // circus gives up on a watcher after max_retry failed starts: stopped without being asked.
        const starts_ = starts.get(name) ?? 0;
        return { name, state: state === 'STOPPED' && starts_ > 1 ? 'FATAL' : state, pid, uptime: pid ? processAge(pid) : null, restarts: Math.max(0, starts_ - 1), detail: '' };
      }));
    },
    async update() {
      const before = new Set(Object.keys(((await ctl('status')) as { statuses: Record<string, string> }).statuses));
      await ctl('reloadconfig');
      const after = new Set(Object.keys(((await ctl('status')) as { statuses: Record<string, string> }).statuses));
      // circus restarts changed watchers itself and does not say which.
      return { added: [...after].filter((n) => !before.has(n)), changed: [], removed: [...before].filter((n) => !after.has(n)) };
    },
    async restart(name) {
      await ctl('restart', name, '--waiting');
    },
    async shutdown() {
      // Each watcher stopped with its stop_signal, SIGKILL after graceful_timeout, then circusd exits.
      await ctl('quit', '--waiting');
    },
  };
}
