// The stack's cron: runs the entries of one crontab with its SHELL -c at the
// start of each matching minute. Unlike the system cron it reads only that
// file and takes no machine-wide lock, so it runs beside a host's own cron.
// An entry still running when it is due again is skipped (logged), never run
// twice at once. SIGTERM/SIGINT are passed on to every running job; the
// scheduler exits 0 once they have exited. Jobs stay in the scheduler's process
// group, so the supervisor's group signals (stopasgroup, killasgroup) reach
// what they started too, and a killed scheduler leaves no job behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dueEntries, parseCrontab, type CronEntry, type Crontab } from './crontab.ts';

const MINUTE = 60_000;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} cron: ${message}\n`);
}

/** Loads the crontab (a bad line throws naming the file and line) and runs it until SIGTERM/SIGINT. */
export function runScheduler(file: string): Promise<void> {
  const crontab = parseCrontab(readFileSync(file, 'utf8'), file);
  const shell = crontab.environment.SHELL ?? '/bin/sh';
  const env = { ...process.env, SHELL: shell, ...crontab.environment };
  const running = new Map<CronEntry, ChildProcess>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const finishIfIdle = () => {
    if (stopping && running.size === 0) finish();
  };

  const start = (entry: CronEntry) => {
    if (running.has(entry)) {
      log(`line ${entry.line}: still running (pid ${running.get(entry)!.pid}), not started again`);
      return;
    }
    const started = Date.now();
    const child = spawn(shell, ['-c', entry.command], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    running.set(entry, child);
    log(`line ${entry.line}: started (pid ${child.pid}): ${entry.command}`);
    child.on('error', (error) => log(`line ${entry.line}: could not start ${shell}: ${error.message}`));
    child.on('close', (code, signal) => {
      running.delete(entry);
      log(`line ${entry.line}: exited (pid ${child.pid}) ${signal ? `on ${signal}` : `with ${code}`} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      finishIfIdle();
    });
  };

  // Each minute once, at its start; a late timer still runs the minute it woke in.
  let lastMinute = Math.floor(Date.now() / MINUTE);
  const tick = () => {
    const minute = Math.floor(Date.now() / MINUTE);
    if (minute !== lastMinute) {
      lastMinute = minute;
      for (const entry of dueEntries(crontab, new Date(minute * MINUTE))) start(entry);
    }
    timer = setTimeout(tick, (minute + 1) * MINUTE - Date.now());
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    log(`${signal}: stopping${running.size ? `, signalling ${running.size} running job(s)` : ''}`);
    for (const child of running.values()) {
      try {
        process.kill(child.pid!, signal);
      } catch {
        // Already gone: its 'close' is on its way.
      }
    }
    finishIfIdle();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  log(`${file}: ${describe(crontab)}`);
  for (const entry of crontab.entries) if (entry.schedule === null) start(entry);
  tick();
  return finished;
}

function describe(crontab: Crontab): string {
  return `${crontab.entries.length} entr${crontab.entries.length === 1 ? 'y' : 'ies'}, shell ${crontab.environment.SHELL ?? '/bin/sh'}`;
}
