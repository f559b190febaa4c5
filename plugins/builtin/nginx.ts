import { definePlugin } from '../api.ts';
import { etcFile } from './paths.ts';

/** The reverse proxy in front of every route (nginx.conf itself sets `daemon off`). */
export default definePlugin({
  name: 'nginx',
  dependsOn: ['registry'],
  setup(host) {
    host.addProcess({ name: 'nginx', command: ['nginx', '-c', etcFile(host.pillar, 'nginx', 'nginx.conf')], autorestart: true, priority: 30, stopsignal: 'QUIT' });
  },
});
