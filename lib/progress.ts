// Progress of long steps: a redrawn line on a TTY, plain start/end lines in CI
// or when output is piped (so logs stay readable). Goes through the logger's mask.
import type { Logger } from './logger.ts';

export interface Progress {
  /** Units done so far (bytes, files...) when a total is known. */
  update(done: number): void;
  end(summary: string): void;
  fail(summary: string): void;
}

const isInteractive = () => Boolean(process.stderr.isTTY) && !process.env.CI;

function bar(done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const width = 24;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`;
}

export function startProgress(log: Logger, label: string, total?: number): Progress {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const interactive = isInteractive() && log.level !== 'quiet';
  let lastDraw = 0;
  if (interactive) log.write(`${label} ...`);
  else log.info(`${label} ...`);
  const finish = (mark: string, summary: string) => {
    if (interactive) log.write(`\r\x1b[K${label}: ${mark} ${summary} (${elapsed()})\n`);
    else log.info(`${label}: ${mark} ${summary} (${elapsed()})`);
  };
  return {
    update(done) {
      const now = performance.now();
      if (!interactive || total === undefined || now - lastDraw < 100) return;
      lastDraw = now;
      log.write(`\r\x1b[K${label} ${bar(done, total)}`);
    },
    end: (summary) => finish('done,', summary),
    fail: (summary) => finish('FAILED:', summary),
  };
}
