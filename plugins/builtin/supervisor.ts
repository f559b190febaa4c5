import { join } from 'node:path';
import { definePlugin, type RenderedFile } from '../api.ts';
import { programViews } from '../render/programs.ts';
import { renderTemplate } from '../render/template.ts';
import type { Stack } from '../stack.ts';

/** The wrapper that starts processes with secrets (see programs.ts), whichever supervisor runs them. */
const withSecrets = () => renderTemplate('supervisor/with-secrets.sh.njk', {}, { mode: 0o755 });

/** supervisord.conf from every registered process (pillar `supervisor: supervisord`). */
function renderSupervisord(stack: Stack): RenderedFile[] {
  const { log, run } = stack.paths;
  return [renderTemplate('supervisor/supervisord.conf.njk', {
    logFile: join(log, 'supervisord.log'),
    pidFile: join(run, 'supervisord.pid'),
    logDir: log,
    socket: join(run, 'supervisor.sock'),
    programs: programViews(stack),
  }), withSecrets()];
}

/** circus.ini from the same process model (pillar `supervisor: circus`, the seed's supervisor). */
function renderCircus(stack: Stack): RenderedFile[] {
  const { log, run } = stack.paths;
  return [renderTemplate('circus/circus.ini.njk', {
    endpoint: join(run, 'circus.sock'),
    pubsub: join(run, 'circus-pubsub.sock'),
    pidFile: join(run, 'circusd.pid'),
    logFile: join(log, 'circusd.log'),
    programs: programViews(stack).map(({ command: [cmd, ...args], autorestart, startsecs: _startsecs, ...rest }) => ({ ...rest, cmd: cmd!, args, respawn: autorestart })),
  }), withSecrets()];
}

/** The process supervisor: one config from the process model, for the supervisor the pillar names. */
export default definePlugin({
  name: 'supervisor',
  setup(host) {
    host.addRenderer(host.pillar.supervisor === 'circus' ? renderCircus : renderSupervisord);
  },
});
