// zx, wired to the masking logger: the command echo, stdout and stderr of every
// command are masked line by line (a secret split across chunks is still caught).
import { $, type LogEntry, type Shell, type Options } from 'zx/core';
import type { Logger } from './logger.ts';

export type { Shell };

export function createShell(log: Logger, options: Partial<Options> = {}): Shell {
  const partial = new Map<string, string>();
  const flush = (id: string, text: string, final: boolean) => {
    const buffered = (partial.get(id) ?? '') + text;
    const cut = final ? buffered.length : buffered.lastIndexOf('\n') + 1;
    if (cut > 0) log.write(buffered.slice(0, cut) + (final && buffered && !buffered.endsWith('\n') ? '\n' : ''));
    if (final) partial.delete(id);
    else partial.set(id, buffered.slice(cut));
  };
  const zxLog = (entry: LogEntry) => {
    switch (entry.kind) {
      case 'cmd':
        if (entry.verbose) log.write(`$ ${entry.cmd}\n`);
        break;
      case 'stdout':
      case 'stderr':
        if (entry.verbose) flush(`${entry.kind}:${entry.id}`, entry.data.toString(), false);
        break;
      case 'end':
        flush(`stdout:${entry.id}`, '', true);
        flush(`stderr:${entry.id}`, '', true);
        break;
      case 'retry':
        log.debug(`retry ${entry.attempt}/${entry.total}${entry.error ? `: ${entry.error}` : ''}`);
        break;
      default:
        if (entry.verbose) log.debug(`zx ${entry.kind}`);
    }
  };
  return $({ verbose: log.verbose, quiet: !log.verbose, log: zxLog as Options['log'], ...options });
}
