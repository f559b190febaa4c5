import type { Plugin } from '../api.ts';
import cron from './cron.ts';
import dockerAuth from './docker-auth.ts';
import logrotate from './logrotate.ts';
import nginx from './nginx.ts';
import redis from './redis.ts';
import registry from './registry.ts';
import sshd from './sshd.ts';
import supervisor from './supervisor.ts';

/** The built-in components, as plugins of the public API. */
export const builtinPlugins: Plugin[] = [registry, dockerAuth, redis, nginx, sshd, cron, logrotate, supervisor];
