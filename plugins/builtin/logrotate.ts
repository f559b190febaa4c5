import { join } from 'node:path';
import { definePlugin, type RenderedFile } from '../api.ts';
import { programViews } from '../render/programs.ts';
import { renderTemplate } from '../render/template.ts';
import type { Stack } from '../stack.ts';
import { etcFile } from './paths.ts';

/**
 * Every process's log file (copied and truncated: the supervisor keeps it open),
 * and nginx's own logs (nginx reopens them on USR1).
 */
function renderLogrotate(stack: Stack): RenderedFile[] {
  const { log, run } = stack.paths;
  const programs = programViews(stack).filter((p) => p.logFile !== false);
  const supervisorLog = join(log, stack.pillar.supervisor === 'circus' ? 'circusd.log' : 'supervisord.log');
  const groups = [
    { owner: 'supervised processes', files: [...programs.map((p) => p.logFile as string), supervisorLog], reopen: false as const },
    ...(stack.processes.some((p) => p.value.name === 'nginx')
      ? [{ owner: 'nginx', files: [join(log, 'nginx-access.log'), join(log, 'nginx-error.log')], reopen: `[ ! -f ${join(run, 'nginx.pid')} ] || kill -USR1 "$(cat ${join(run, 'nginx.pid')})"` }]
      : []),
  ];
  return [renderTemplate('logrotate/logrotate.conf.njk', { groups })];
}

/** Rotates the stack's logs daily, run by cron (no process of its own). */
export default definePlugin({
  name: 'logrotate',
  dependsOn: ['cron'],
  setup(host) {
    const config = etcFile(host.pillar, 'logrotate', 'logrotate.conf');
    host.addFile({ path: 'cron/logrotate', content: `17 3 * * * /usr/sbin/logrotate --state ${join(host.pillar.data_root, 'run', 'logrotate.status')} ${config}\n`, mode: 0o644 });
    host.addRenderer(renderLogrotate);
  },
});
