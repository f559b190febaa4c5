import { definePlugin } from '../api.ts';
import { etcFile } from './paths.ts';

/** Redis, the registry's blob-descriptor cache (when registry.redis is on). */
export default definePlugin({
  name: 'redis',
  setup(host) {
    const { pillar } = host;
    if (!pillar.registry.redis) return;
    host.addProcess({ name: 'redis', command: ['redis-server', etcFile(pillar, 'redis', 'redis.conf')], user: pillar.user, autorestart: true, priority: 10 });
  },
});
