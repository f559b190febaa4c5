// The launcher's view of a process supervisor: how to start it, whether it is
// up, each process's state from the supervisor's own interface, and the
// operations the launcher needs (update after a render, restart one program,
// stop everything with each program's stop signal). supervisord is reached over
// XML-RPC on its unix socket; circus through circusctl on its ipc endpoint.
import { readFileSync } from 'node:fs';

export type ProcessState = 'STARTING' | 'RUNNING' | 'BACKOFF' | 'STOPPING' | 'STOPPED' | 'EXITED' | 'FATAL' | 'UNKNOWN';

export interface ProcessStatus {
  name: string;
  state: ProcessState;
  pid: number | null;
  /** Seconds since the process started, when it runs. */
  uptime: number | null;
  /** Times the supervisor started it again since the supervisor itself started. */
  restarts: number;
  /** The supervisor's own words on a failure (spawn error, exit status). */
  detail: string;
}

export interface UpdateResult {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface Supervisor {
  readonly kind: 'supervisord' | 'circus';
  /** Its own pid file (it writes it when it starts). */
  readonly pidFile: string;
  /** The supervisor's log (restarts are counted from it). */
  readonly logFile: string;
  /** argv that runs it in the foreground with the rendered configuration. */
  command(): string[];
  /** Whether its control interface answers. */
  answering(): Promise<boolean>;
  processes(): Promise<ProcessStatus[]>;
  /** Reread the configuration: start added programs, restart changed ones, stop removed ones; others keep running. */
  update(): Promise<UpdateResult>;
  restart(name: string): Promise<void>;
  /** Stops every process (each with its stop signal, within its stop timeout), then the supervisor exits. */
  shutdown(): Promise<void>;
}

/** The pid in a pid file, if the file exists and that process is alive. */
export function livePid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return alive(pid) ? pid : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Starts counted per program from the supervisor's log since its last start, given how it logs one start. */
export function countStarts(logFile: string, startedMark: RegExp, spawned: RegExp): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return new Map();
  }
  const lines = text.split('\n');
  let from = 0;
  lines.forEach((line, index) => { if (startedMark.test(line)) from = index; });
  const starts = new Map<string, number>();
  for (const line of lines.slice(from)) {
    const name = spawned.exec(line)?.[1];
    if (name) starts.set(name, (starts.get(name) ?? 0) + 1);
  }
  return starts;
}

/** The fields of /proc/PID/stat after the command name (state first), or undefined when it is gone. */
export function procStat(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces and parentheses itself.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** When `pid` started, in ms since the epoch, to the clock tick (100 per second on Linux), from /proc. */
export function processStart(pid: number): number | undefined {
  const fields = procStat(pid);
  if (!fields) return undefined;
  const sinceBoot = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - (sinceBoot - Number(fields[19]) / 100) * 1000;
}

/** Whole seconds since `pid` started. */
export function processAge(pid: number): number | null {
  const start = processStart(pid);
  return start === undefined ? null : Math.max(0, Math.floor((Date.now() - start) / 1000));
}
