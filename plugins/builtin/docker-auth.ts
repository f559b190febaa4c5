import { definePlugin } from '../api.ts';
import { binaryPath, etcFile } from './paths.ts';

/** cesanta/docker_auth, the token server, behind /authserver/ (token auth mode only). */
export default definePlugin({
  name: 'docker-auth',
  setup(host) {
    const { pillar } = host;
    if (pillar.auth.mode !== 'token') return;
    host.addProcess({ name: 'auth_server', command: [binaryPath(pillar, 'auth_server'), etcFile(pillar, 'docker_auth', 'config.yml')], user: pillar.user, autorestart: true, priority: 20 });
    host.addRoute({ prefix: '/authserver/', upstream: { host: pillar.auth_server.host, port: pillar.auth_server.port } });
  },
});
