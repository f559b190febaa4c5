import { definePlugin, type RenderedFile } from '../api.ts';
import { renderTemplate } from '../render/template.ts';
import type { Stack } from '../stack.ts';

/** The crontab: every file a plugin registered under cron/, in registration order. */
export function renderCrontab(stack: Stack): RenderedFile[] {
  const entries = stack.files.filter((f) => f.value.path.startsWith('cron/')).map((f) => ({ owner: f.owner, path: f.value.path, content: f.value.content }));
  return [renderTemplate('cron/crontab.njk', { entries })];
}

/** cron in the foreground, with the crontab plugins' periodic jobs make up. */
export default definePlugin({
  name: 'cron',
  setup(host) {
    host.addProcess({ name: 'cron', command: ['/usr/sbin/cron', '-f'], autorestart: true, priority: 40 });
    host.addRenderer(renderCrontab);
  },
});
