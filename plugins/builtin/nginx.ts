import { join } from 'node:path';
import { definePlugin, type RenderedFile } from '../api.ts';
import { bcryptHash } from '../render/bcrypt.ts';
import { renderTemplate } from '../render/template.ts';
import type { NginxAclRule, NginxRoute } from '../render/views.ts';
import { INLINE_TLS_KEY, type Stack } from '../stack.ts';
import { etcFile, hostPort } from './paths.ts';
import { REGISTRY_ROUTE } from './registry.ts';

/** The registry's JSON error bodies, so a docker client prints `denied: ...`, not an HTML parse error. */
const ERRORS: Record<string, { code: string; message: string }> = {
  '401': { code: 'UNAUTHORIZED', message: 'authentication required' },
  '403': { code: 'DENIED', message: 'requested access to the resource is denied' },
};

const PULL = '(GET|HEAD)';
const PUSH = '(?!GET |HEAD )[A-Z]+';
const ANY = '[A-Z]+';

/** A docker_auth-style glob (`*` = anything) as a regex over repository names. */
function nameRegex(glob: string, where: string): string {
  if (!/^[a-z0-9._/*-]+$/.test(glob)) throw new Error(`${where}: expected a repository name or glob (a-z 0-9 . _ / - *), got ${JSON.stringify(glob)}`);
  return glob.replace(/[.]/g, '\\.').replace(/\*/g, '.*');
}

/** The pillar's acl as nginx map rules over "$remote_user $request_method $uri", in the acl's order. */
function aclRules(stack: Stack): NginxAclRule[] {
  return stack.pillar.acl.flatMap((entry, index) => {
    const where = `acl.${index}.match`;
    for (const key of Object.keys(entry.match)) {
      if (key !== 'account' && key !== 'name') throw new Error(`${where}.${key}: htpasswd mode matches on account and name only (auth.mode: token supports ${key})`);
    }
    const account = entry.match.account;
    if (account !== undefined && !/^[a-z_][a-z0-9_-]*$/.test(account)) throw new Error(`${where}.account: expected a user name, got ${JSON.stringify(account)}`);
    const who = account ?? '[^ ]+';
    const repo = entry.match.name === undefined ? '.+' : nameRegex(entry.match.name, `${where}.name`);
    const actions = new Set(entry.actions);
    const methods = actions.has('*') || (actions.has('pull') && actions.has('push')) ? ANY : actions.has('push') ? PUSH : actions.has('pull') ? PULL : undefined;
    const rule = (verbs: string, verdict: 'allow' | 'deny') => ({ index, pattern: `~^${who} ${verbs} /v2/${repo}/(manifests|blobs|tags)/`, verdict, comment: verdict === 'allow' });
    // First match wins, as in docker_auth: the entry grants its methods, then
    // refuses the rest for the same account and name.
    return methods ? [rule(methods, 'allow'), rule(ANY, 'deny')] : [rule(ANY, 'deny')];
  });
}

const route = (owner: string, prefix: string, host: string, port: number, maxBodySize = '1m'): NginxRoute => ({ owner, prefix, upstream: hostPort(host, port), maxBodySize });

function renderNginx(stack: Stack): RenderedFile[] {
  const { pillar, paths } = stack;
  const nginxEtc = join(paths.etc, 'nginx');
  const errorsDir = join(nginxEtc, 'errors');
  const htpasswdMode = pillar.auth.mode === 'htpasswd';
  const registry = stack.routes.find((r) => r.value.prefix === REGISTRY_ROUTE && r.owner === 'registry');
  if (!registry) throw new Error(`nginx: no registry route (${REGISTRY_ROUTE}) is registered`);
  const files: RenderedFile[] = [];
  files.push(renderTemplate('nginx/nginx.conf.njk', {
    user: pillar.user,
    group: pillar.group,
    pidFile: join(paths.run, 'nginx.pid'),
    errorLog: join(paths.log, 'nginx-error.log'),
    accessLog: join(paths.log, 'nginx-access.log'),
    tempDir: join(paths.run, 'nginx'),
    errorsDir,
    serverNames: [pillar.domain, ...pillar.server_aliases],
    httpPort: pillar.ports.http,
    httpsPort: pillar.ports.https,
    httpsSuffix: pillar.ports.https === 443 ? '' : `:${pillar.ports.https}`,
    certificate: stack.tls.certificate,
    certificateKey: stack.tls.key,
    forceSsl: pillar.force_ssl,
    registry: route(registry.owner, registry.value.prefix, registry.value.upstream.host, registry.value.upstream.port, '0'),
    htpasswd: htpasswdMode && { realm: `${pillar.domain} registry`, userFile: join(nginxEtc, 'htpasswd'), emptyDir: errorsDir },
    acl: htpasswdMode && aclRules(stack),
    routes: stack.routes.filter((r) => r !== registry).map((r) => route(r.owner, r.value.prefix, r.value.upstream.host, r.value.upstream.port, r.value.max_body_size)),
  }));
  for (const [status, error] of Object.entries(ERRORS)) {
    files.push({ path: `nginx/errors/${status}.json`, content: `${JSON.stringify({ errors: [{ ...error, detail: null }] })}\n` });
  }
  if (htpasswdMode) {
    const lines = Object.entries(stack.secrets.users).map(([user, password]) => `${user}:${bcryptHash(user, password)}\n`);
    files.push({ path: 'nginx/htpasswd', content: lines.join(''), secret: true });
  }
  // PEM text given in the pillar is written beside the config.
  if (typeof pillar.tls.cert === 'string') files.push({ path: 'nginx/tls/server.crt', content: pillar.tls.cert });
  if (typeof pillar.tls.key === 'string') files.push({ path: INLINE_TLS_KEY, content: pillar.tls.key, private: true });
  return files;
}

/** The reverse proxy in front of every route (nginx.conf itself sets `daemon off`). */
export default definePlugin({
  name: 'nginx',
  dependsOn: ['registry'],
  setup(host) {
    const { pillar } = host;
    host.addProcess({ name: 'nginx', command: ['/usr/sbin/nginx', '-c', etcFile(pillar, 'nginx', 'nginx.conf')], autorestart: true, priority: 30, stopsignal: 'QUIT', ports: [pillar.ports.http, pillar.ports.https] });
    host.addRenderer(renderNginx);
  },
});
