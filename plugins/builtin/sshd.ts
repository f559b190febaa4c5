import { join } from 'node:path';
import { definePlugin, type RenderedFile } from '../api.ts';
import { renderTemplate } from '../render/template.ts';
import type { Stack } from '../stack.ts';
import { etcFile } from './paths.ts';

/** Host keys, generated once under {data_root}/ssh/ by render and kept. */
export const SSH_HOST_KEYS = ['ssh_host_ed25519_key'] as const;

function renderSshd(stack: Stack): RenderedFile[] {
  const { pillar, paths } = stack;
  const keys = stack.authorizedKeys.map(({ file, key }) => `# ${file}\n${key.trim()}\n`).join('');
  return [
    renderTemplate('sshd/sshd_config.njk', {
      listen: pillar.sshd.host,
      port: pillar.sshd.port,
      hostKeys: SSH_HOST_KEYS.map((name) => join(paths.ssh, name)),
      pidFile: join(paths.run, 'sshd.pid'),
      authorizedKeys: join(paths.etc, 'ssh', 'authorized_keys'),
    }),
    // The seed's sshconfig step: every .pub dropped into authorized_keys.d/, in name order.
    { path: 'ssh/authorized_keys', content: keys, mode: 0o644 },
  ];
}

/** OpenSSH in the foreground, for maintenance logins into the image. */
export default definePlugin({
  name: 'sshd',
  setup(host) {
    host.addProcess({ name: 'sshd', command: ['/usr/sbin/sshd', '-D', '-e', '-f', etcFile(host.pillar, 'ssh', 'sshd_config')], autorestart: true, priority: 40, ports: [host.pillar.sshd.port] });
    host.addRenderer(renderSshd);
  },
});
