// zx, wired to the masking logger: the command echo, stdout and stderr of every
// command are masked line by line (a secret split across chunks is still caught).
// Each stream has its own incremental decoder: a multi-byte character split
// across two chunks is decoded whole before masking, not as two U+FFFD.
import { StringDecoder } from 'node:string_decoder';
import { $, type LogEntry, type Shell, type Options } from 'zx/core';
import type { Logger } from './logger.ts';

export type { Shell };

/** A stream's text not yet written: an incomplete character and an incomplete line. */
interface Pending {
  decoder: StringDecoder;
  line: string;
}

export function createShell(log: Logger, options: Partial<Options> = {}): Shell {
  const pending = new Map<string, Pending>();
  const flush = (id: string, data: Buffer | undefined, final: boolean) => {
    const stream = pending.get(id) ?? { decoder: new StringDecoder('utf8'), line: '' };
    const buffered = stream.line + (data ? stream.decoder.write(data) : '') + (final ? stream.decoder.end() : '');
    const cut = final ? buffered.length : buffered.lastIndexOf('\n') + 1;
    if (cut > 0) log.write(buffered.slice(0, cut) + (final && buffered && !buffered.endsWith('\n') ? '\n' : ''));
    stream.line = buffered.slice(cut);
    if (final) pending.delete(id);
    else pending.set(id, stream);
  };
  const zxLog = (entry: LogEntry) => {
    switch (entry.kind) {
      case 'cmd':
        if (entry.verbose) log.write(`$ ${entry.cmd}\n`);
        break;
      case 'stdout':
      case 'stderr':
        if (entry.verbose) flush(`${entry.kind}:${entry.id}`, Buffer.from(entry.data), false);
        break;
      case 'end':
        flush(`stdout:${entry.id}`, undefined, true);
        flush(`stderr:${entry.id}`, undefined, true);
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
