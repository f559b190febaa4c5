import { cronCommand } from '../../lib/cron/command.ts';
import { parseCrontab } from '../../lib/cron/crontab.ts';
import { definePlugin, type RenderedFile } from '../api.ts';
import { renderTemplate } from '../render/template.ts';
import type { Stack } from '../stack.ts';
import { etcFile } from './paths.ts';

/** The crontab: every file a plugin registered under cron/, in registration order; a bad line fails render, not the running cron. */
function renderCrontab(stack: Stack): RenderedFile[] {
  const entries = stack.files.filter((f) => f.value.path.startsWith('cron/')).map((f) => ({ owner: f.owner, path: f.value.path, content: f.value.content }));
  for (const entry of entries) parseCrontab(entry.content, `${entry.path} (plugin "${entry.owner}")`);
  return [renderTemplate('cron/crontab.njk', { entries })];
}

/**
 * The kit's own scheduler (lib/cron/) in the foreground, running the crontab
 * plugins' periodic jobs make up: the system cron would read only /etc/crontab
 * and take a machine-wide lock in /run.
 */
export default definePlugin({
  name: 'cron',
  setup(host) {
    host.addProcess({ name: 'cron', command: cronCommand(etcFile(host.pillar, 'cron', 'crontab')), autorestart: true, priority: 40 });
    host.addRenderer(renderCrontab);
  },
});
