import { definePlugin } from '../api.ts';

/** cron in the foreground; logrotate and plugins' periodic jobs run from it. */
export default definePlugin({
  name: 'cron',
  setup(host) {
    host.addProcess({ name: 'cron', command: ['cron', '-f'], autorestart: true, priority: 40 });
  },
});
