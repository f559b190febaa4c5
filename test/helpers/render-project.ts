// A project for render/ca tests: a temporary data_root, services on free
// loopback ports, the service user nobody:nogroup, and the kit's tasks run in
// process with their output captured.
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { stringify } from 'yaml';
import type { Plugin } from '../../plugins/api.ts';
import { runKitTasks } from './tasks.ts';
import { tempDir } from './tmp.ts';

export const READONLY_PASSWORD = 'readonly-Pa55 %w"ord=x';

/** A TCP port free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RenderProject {
  dir: string;
  data: string;
  etc: string;
  pillarFile: string;
  ports: { http: number; https: number; registry: number; debug: number; auth: number; redis: number; sshd: number };
  env: NodeJS.ProcessEnv;
  /** Runs kit tasks in order with extra argv; returns everything printed, and the first error. */
  run(tasks: string[], argv?: string[], plugins?: Plugin[]): Promise<{ out: string; err: string; all: string; error?: Error }>;
  /** Rewrites the pillar file with these keys over the base. */
  setPillar(extra: object): Promise<void>;
}

export async function renderProject(t: ExecutionContext, extra: object = {}): Promise<RenderProject> {
  const dir = await tempDir(t, 'corpus-kit-render-');
  const data = join(dir, 'data');
  const ports = { http: await freePort(), https: await freePort(), registry: await freePort(), debug: await freePort(), auth: await freePort(), redis: await freePort(), sshd: await freePort() };
  const base = {
    data_root: data,
    user: 'nobody',
    group: 'nogroup',
    server_aliases: ['registry.test', 'alias.example.org'],
    ports: { http: ports.http, https: ports.https },
    registry: { port: ports.registry, debug_addr: `127.0.0.1:${ports.debug}` },
    auth_server: { port: ports.auth },
    redis: { port: ports.redis },
    sshd: { host: '127.0.0.1', port: ports.sshd },
  };
  const pillarFile = join(dir, 'pillar.yml');
  const setPillar = async (more: object) => writeFile(pillarFile, stringify(deep(base, { ...extra, ...more })));
  await setPillar({});
  const env = { REGISTRY_READONLY_PASSWORD: READONLY_PASSWORD };
  const run: RenderProject['run'] = async (names, argv = [], plugins = []) => {
    const { out, err, all, error } = await runKitTasks({ cwd: dir, argv: ['--pillar', pillarFile, ...argv], env, plugins }, names);
    return error ? { out, err, all: `${all}${error.message}\n`, error } : { out, err, all };
  };
  return { dir, data, etc: join(data, 'etc'), pillarFile, ports, env, run, setPillar };
}

function deep(a: object, b: object): object {
  const result: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const old = result[key];
    result[key] = value && typeof value === 'object' && !Array.isArray(value) && old && typeof old === 'object' ? deep(old, value) : value;
  }
  for (const key of Object.keys(result)) if (result[key] === undefined) delete result[key];
  return result;
}
