// Progress of long steps: a redrawn line on a TTY, plain start/end lines in CI
// or when output is piped (so logs stay readable). Goes through the logger's mask.
import type { Logger } from './logger.ts';

export interface Progress {
  /** Units done so far (bytes, files...) when a total is known. */
  update(done: number): void;
  end(summary: string): void;
  /** A summary, or the error that ended it (its first line is shown). */
  fail(reason: unknown): void;
}

/** Bars are drawn on a terminal only, outside CI, and not when the logger is quiet. */
const isInteractive = (log: Logger) => Boolean(process.stderr.isTTY) && !process.env.CI && log.level !== 'quiet';

/** "<label>: done, <summary> (1.2s)" or "<label>: FAILED: <summary> (1.2s)". */
function finishLine(label: string, mark: string, summary: string, started: number): string {
  return `${label}: ${mark} ${summary} (${((performance.now() - started) / 1000).toFixed(1)}s)`;
}

const failure = (reason: unknown) => (reason instanceof Error ? reason.message.split('\n')[0] ?? '' : String(reason));

function bar(done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const width = 24;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`;
}

export function startProgress(log: Logger, label: string, total?: number): Progress {
  const started = performance.now();
  const interactive = isInteractive(log);
  let lastDraw = 0;
  if (interactive) log.write(`${label} ...`);
  else log.info(`${label} ...`);
  const finish = (mark: string, summary: string) => {
    if (interactive) log.write(`\r\x1b[K${finishLine(label, mark, summary, started)}\n`);
    else log.info(finishLine(label, mark, summary, started));
  };
  return {
    update(done) {
      const now = performance.now();
      if (!interactive || total === undefined || now - lastDraw < 100) return;
      lastDraw = now;
      log.write(`\r\x1b[K${label} ${bar(done, total)}`);
    },
    end: (summary) => finish('done,', summary),
    fail: (reason) => finish('FAILED:', failure(reason)),
  };
}

export interface ProgressGroup {
  /** One item of the group: its own bar on a TTY, start/end lines otherwise. */
  start(label: string, total?: number): Progress;
  /** A log line printed above the bars, so that it does not break them. */
  note(message: string): void;
}

/** Several items in progress at once (parallel uploads): one bar per item on a TTY. */
export function startProgressGroup(log: Logger): ProgressGroup {
  if (!isInteractive(log)) {
    return { start: (label, total) => startProgress(log, label, total), note: (message) => log.info(message) };
  }
  const active = new Set<{ label: string; total?: number; done: number }>();
  let drawn = 0;
  let lastDraw = 0;
  // Rewrites the block of bars in place: up to its first line, each bar, clear what is below.
  const draw = (above = '') => {
    let text = drawn > 0 ? `\x1b[${drawn}A` : '';
    text += `\r\x1b[J${above}`;
    for (const item of active) text += `${item.label} ${item.total === undefined ? '...' : bar(item.done, item.total)}\n`;
    drawn = active.size;
    lastDraw = performance.now();
    log.write(text);
  };
  return {
    start(label, total) {
      const item = { label, total, done: 0 };
      const started = performance.now();
      active.add(item);
      draw();
      const finish = (mark: string, summary: string) => {
        active.delete(item);
        draw(`${finishLine(label, mark, summary, started)}\n`);
      };
      return {
        update(done) {
          item.done = done;
          if (performance.now() - lastDraw >= 100) draw();
        },
        end: (summary) => finish('done,', summary),
        fail: (reason) => finish('FAILED:', failure(reason)),
      };
    },
    note: (message) => draw(`${message}\n`),
  };
}
