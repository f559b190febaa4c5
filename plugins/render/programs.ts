// The process model as both supervisor renderers read it: one program view per
// registered process, with the defaults every supervisor gets.
import { join } from 'node:path';
import type { ProcessSpec } from '../api.ts';
import type { Stack } from '../stack.ts';
import { TEMPLATES } from './template.ts';
import type { ProgramView } from './views.ts';


/**
 * The command the supervisor runs, and as whom. A process with secrets starts as
 * root through the wrapper, which reads them and drops to the process's user
 * itself; the command line names the private files, never their content.
 */
function launch(stack: Stack, p: ProcessSpec): Pick<ProgramView, 'command' | 'user'> {
  if (!p.secret_env && !p.secret_stdin) return { command: p.command, user: p.user ?? false };
  const options = Object.entries(p.secret_env ?? {}).sort(([a], [b]) => a.localeCompare(b)).flatMap(([name, file]) => ['--env', `${name}=${file}`]);
  if (p.secret_stdin) options.push('--stdin', p.secret_stdin);
  const wrapper = ['/bin/sh', join(stack.paths.etc, TEMPLATES['supervisor/with-secrets.sh.njk']), stack.paths.processSecrets, p.user ?? '-'];
  return { command: [...wrapper, ...options, '--', ...p.command], user: false };
}

export function programViews(stack: Stack): ProgramView[] {
  return stack.processes.map(({ owner, value: p }) => ({
    owner,
    name: p.name,
    ...launch(stack, p),
    directory: p.directory ?? false,
    environment: Object.entries(p.environment ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
    priority: p.priority ?? 999,
    autorestart: p.autorestart ?? true,
    startsecs: p.startsecs ?? 1,
    stopsignal: p.stopsignal ?? 'TERM',
    stopwaitsecs: p.stopwaitsecs ?? 10,
    logFile: p.log === 'stdout' ? false : join(stack.paths.log, `${p.name}.log`),
  }));
}
