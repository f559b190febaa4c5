// The process model as both supervisor renderers read it: one program view per
// registered process, with the defaults every supervisor gets.
import { join } from 'node:path';
import type { Stack } from '../stack.ts';
import type { ProgramView } from './views.ts';

export function programViews(stack: Stack): ProgramView[] {
  return stack.processes.map(({ owner, value: p }) => ({
    owner,
    name: p.name,
    command: p.command,
    directory: p.directory ?? false,
    user: p.user ?? false,
    environment: Object.entries(p.environment ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
    priority: p.priority ?? 999,
    autorestart: p.autorestart ?? true,
    startsecs: p.startsecs ?? 1,
    stopsignal: p.stopsignal ?? 'TERM',
    stopwaitsecs: p.stopwaitsecs ?? 10,
    logFile: p.log === 'stdout' ? false : join(stack.paths.log, `${p.name}.log`),
  }));
}
