import { stringify } from 'yaml';
import { definePlugin, type RenderedFile } from '../api.ts';
import { bcryptHash } from '../render/bcrypt.ts';
import { header } from '../render/template.ts';
import type { Stack } from '../stack.ts';
import { binaryPath, etcFile, hostPort } from './paths.ts';

/** docker_auth's auth.yml as an object (token mode). */
function dockerAuthConfig(stack: Stack): object {
  const { pillar, token, secrets } = stack;
  const acl = pillar.acl.map((entry, index) => {
    // Every request reaches docker_auth from 127.0.0.1 through nginx: an IP rule would grant everyone.
    if ('ip' in entry.match) throw new Error(`acl.${index}.match.ip: refused: docker_auth sees every request from nginx (127.0.0.1), so an IP rule would match everyone`);
    return { match: entry.match, actions: entry.actions, ...(entry.comment ? { comment: entry.comment } : {}) };
  });
  return {
    server: { addr: hostPort(pillar.auth_server.host, pillar.auth_server.port), path_prefix: pillar.auth_server.route.replace(/\/$/, '') },
    token: {
      issuer: token.issuer,
      expiration: pillar.auth.token.expiration,
      certificate: token.certificate,
      key: token.key,
      // distribution 3.x looks tokens up by the key's JWK thumbprint, not libtrust's key id.
      ...(stack.registryMajor >= 3 ? { disable_legacy_key_id: true } : {}),
    },
    users: Object.fromEntries(Object.entries(secrets.users).map(([user, password]) => [user, { password: bcryptHash(user, password) }])),
    // First match wins; a request no entry matches is denied.
    acl,
  };
}

function renderDockerAuth(stack: Stack): RenderedFile[] {
  return [{ path: 'docker_auth/auth.yml', content: `# ${header('plugins/builtin/docker-auth.ts (an object, serialised)')}\n${stringify(dockerAuthConfig(stack), { lineWidth: 0 })}`, secret: true }];
}

/** cesanta/docker_auth, the token server, behind auth_server.route (token auth mode only). */
export default definePlugin({
  name: 'docker-auth',
  setup(host) {
    const { pillar } = host;
    if (pillar.auth.mode !== 'token') return;
    const { host: address, port, route } = pillar.auth_server;
    host.addProcess({ name: 'auth_server', command: [binaryPath(pillar, 'auth_server'), etcFile(pillar, 'docker_auth', 'auth.yml')], user: pillar.user, autorestart: true, priority: 20, ports: [port] });
    host.addRoute({ prefix: route, upstream: { host: address, port } });
    host.addRenderer(renderDockerAuth);
  },
});
