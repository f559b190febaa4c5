import { definePlugin } from '../api.ts';
import { etcFile } from './paths.ts';

/** OpenSSH in the foreground, for maintenance logins into the image. */
export default definePlugin({
  name: 'sshd',
  setup(host) {
    host.addProcess({ name: 'sshd', command: ['/usr/sbin/sshd', '-D', '-e', '-f', etcFile(host.pillar, 'ssh', 'sshd_config')], autorestart: true, priority: 40 });
  },
});
