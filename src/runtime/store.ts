import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createMemoryStore } from '../store/memory/store.js';
import { createRedisStore } from '../store/redis/store.js';
import type { Store } from '../store/types.js';

export type Log = (line: string) => void;

/** Redis when configured; otherwise the in-process store, with a warning nobody can miss. */
export function openStore(config: Config, log: Log): { store: Store; kind: 'redis' | 'memory' } {
  if (config.redisUrl === null) {
    log(
      [
        '',
        '!!! REDIS_URL is not set: hanglink is using its IN-PROCESS store.',
        '!!! Links, merchants and clicks live in this process only and are LOST on restart.',
        '!!! Set REDIS_URL=redis://host:6379 for anything but a try-out.',
        '',
      ].join('\n'),
    );
    return { store: createMemoryStore({ clickPolicy: config.clickPolicy }), kind: 'memory' };
  }
  const redis = new Redis(config.redisUrl, { enableAutoPipelining: true });
  redis.on('error', (error: Error) => log(`hanglink: redis: ${error.message}`));
  return { store: createRedisStore(redis, { prefix: config.redisPrefix, clickPolicy: config.clickPolicy }), kind: 'redis' };
}
