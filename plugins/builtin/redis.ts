import { join } from 'node:path';
import { definePlugin, type RenderedFile } from '../api.ts';
import { redisQuote } from '../render/escape.ts';
import { renderTemplate } from '../render/template.ts';
import type { Stack } from '../stack.ts';
import { etcFile } from './paths.ts';

/** The directive redis reads from stdin (`redis-server redis.conf -`): the password is in no file redis.conf names. */
const REQUIREPASS = 'redis/requirepass.conf';

function renderRedis(stack: Stack): RenderedFile[] {
  const { redis } = stack.pillar;
  return [
    renderTemplate('redis/redis.conf.njk', {
      host: redis.host,
      port: redis.port,
      maxmemory: redis.maxmemory,
      dir: join(stack.paths.data, 'redis'),
      persistence: redis.persistence,
    }),
    { path: REQUIREPASS, content: `requirepass ${redisQuote(stack.secrets.redisPassword)}\n`, private: true },
  ];
}

/** Redis, the registry's blob-descriptor cache (when registry.redis is on). */
export default definePlugin({
  name: 'redis',
  setup(host) {
    const { pillar } = host;
    if (!pillar.registry.redis) return;
    host.addProcess({
      name: 'redis', command: ['/usr/bin/redis-server', etcFile(pillar, 'redis', 'redis.conf'), '-'], secret_stdin: REQUIREPASS,
      user: pillar.user, autorestart: true, priority: 10, ports: [pillar.redis.port],
    });
    host.addRenderer(renderRedis);
  },
});
