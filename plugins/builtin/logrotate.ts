import { definePlugin } from '../api.ts';
import { etcFile } from './paths.ts';

/** Rotates the stack's logs daily, run by cron (no process of its own). */
export default definePlugin({
  name: 'logrotate',
  dependsOn: ['cron'],
  setup(host) {
    const config = etcFile(host.pillar, 'logrotate', 'logrotate.conf');
    host.addFile({ path: 'cron/logrotate', content: `17 3 * * * root /usr/sbin/logrotate --state ${etcFile(host.pillar, 'logrotate', 'status')} ${config}\n`, mode: 0o644 });
  },
});
