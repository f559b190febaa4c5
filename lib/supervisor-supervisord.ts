// supervisord behind the launcher's Supervisor interface, over XML-RPC on its
// unix socket (the interface supervisorctl uses).
import { existsSync } from 'node:fs';
import { countStarts, type ProcessState, type ProcessStatus, type Supervisor, type UpdateResult } from './supervisor.ts';
import { rpcCall, RpcFault, type RpcValue } from './supervisor-xmlrpc.ts';

interface ProcessInfo {
  name: string;
  group: string;
  statename: ProcessState;
  pid: number;
  start: number;
  now: number;
  spawnerr: string;
  exitstatus: number;
  description: string;
}

export interface SupervisordFiles {
  config: string;
  socket: string;
  pidFile: string;
  logFile: string;
}

/** supervisord's fault code for stopping a process that is not running. */
const NOT_RUNNING = 70;

function ignoreNotRunning(error: unknown): void {
  if (!(error instanceof RpcFault) || error.code !== NOT_RUNNING) throw error;
}

export function supervisord(files: SupervisordFiles): Supervisor {
  const call = (method: string, ...params: RpcValue[]) => rpcCall(files.socket, method, params);
  return {
    kind: 'supervisord',
    pidFile: files.pidFile,
    logFile: files.logFile,
    command: () => ['/usr/bin/supervisord', '-n', '-c', files.config],
    async answering() {
      if (!existsSync(files.socket)) return false;
      try {
        const state = (await call('supervisor.getState')) as { statename: string };
        return state.statename === 'RUNNING';
      } catch {
        return false;
      }
    },
    async processes() {
      const infos = (await call('supervisor.getAllProcessInfo')) as unknown as ProcessInfo[];
      const starts = countStarts(files.logFile, /supervisord started with pid/, /spawned: '([^']+)' with pid/);
      return infos.map((p): ProcessStatus => ({
        name: p.name,
        state: p.statename,
        pid: p.pid > 0 ? p.pid : null,
        uptime: p.statename === 'RUNNING' ? p.now - p.start : null,
        restarts: Math.max(0, (starts.get(p.name) ?? 0) - 1),
        detail: p.spawnerr || (p.statename === 'EXITED' || p.statename === 'FATAL' || p.statename === 'BACKOFF' ? p.description : ''),
      }));
    },
    async update() {
      // What `supervisorctl update` does: reread, then stop and remove removed
      // groups, replace changed ones, add new ones. Untouched groups keep running.
      const [[added, changed, removed]] = (await call('supervisor.reloadConfig')) as [[string[], string[], string[]]];
      for (const group of [...removed, ...changed]) {
        await call('supervisor.stopProcessGroup', group, true).catch(ignoreNotRunning);
        await call('supervisor.removeProcessGroup', group);
      }
      for (const group of [...changed, ...added]) await call('supervisor.addProcessGroup', group);
      return { added, changed, removed } satisfies UpdateResult;
    },
    async restart(name) {
      await call('supervisor.stopProcess', name, true).catch(ignoreNotRunning);
      await call('supervisor.startProcess', name, true);
    },
    async shutdown() {
      // supervisord stops every program (reverse priority, each with its
      // stopsignal, SIGKILL to its group after stopwaitsecs), then exits.
      await call('supervisor.shutdown');
    },
  };
}
