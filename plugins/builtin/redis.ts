import { join } from 'node:path';
import { definePlugin, type RenderedFile } from '../api.ts';
import { renderTemplate } from '../render/template.ts';
import type { Stack } from '../stack.ts';
import { etcFile } from './paths.ts';

function renderRedis(stack: Stack): RenderedFile[] {
  const { redis } = stack.pillar;
  return [renderTemplate('redis/redis.conf.njk', {
    host: redis.host,
    port: redis.port,
    password: stack.secrets.redisPassword,
    maxmemory: redis.maxmemory,
    dir: join(stack.paths.data, 'redis'),
    persistence: redis.persistence,
  }, { secret: true })];
}

/** Redis, the registry's blob-descriptor cache (when registry.redis is on). */
export default definePlugin({
  name: 'redis',
  setup(host) {
    const { pillar } = host;
    if (!pillar.registry.redis) return;
    host.addProcess({ name: 'redis', command: ['/usr/bin/redis-server', etcFile(pillar, 'redis', 'redis.conf')], user: pillar.user, autorestart: true, priority: 10, ports: [pillar.redis.port] });
    host.addRenderer(renderRedis);
  },
});
