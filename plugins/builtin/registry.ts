import { definePlugin } from '../api.ts';
import { binaryPath, etcFile } from './paths.ts';

/** The distribution registry; nginx sends it everything no other route claims. */
export default definePlugin({
  name: 'registry',
  setup(host) {
    const { pillar } = host;
    host.addProcess({ name: 'registry', command: [binaryPath(pillar, 'registry'), 'serve', etcFile(pillar, 'registry', 'config.yml')], user: pillar.user, autorestart: true, priority: 20 });
    host.addRoute({ prefix: '/', upstream: { host: pillar.registry.host, port: pillar.registry.port }, max_body_size: '0' });
  },
});
