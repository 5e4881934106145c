import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createMemoryStore } from '../store/memory/store.js';
import { createRedisStore } from '../store/redis/store.js';
import type { Store } from '../store/types.js';

export type Log = (line: string) => void;

/** Redis when configured; otherwise the in-process store, with a warning nobody can miss. */
// How long start-up waits for the first connection before serving anyway.
const READY_WAIT_MS = 3000;

export function openStore(config: Config, log: Log): { store: Store; kind: 'redis' | 'memory'; ready: Promise<void> } {
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
    return { store: createMemoryStore({ clickPolicy: config.clickPolicy }), kind: 'memory', ready: Promise.resolve() };
  }
  // Fail fast while Redis is away rather than queue: a tap or API call must not hang on it. The
  // redirect keeps serving cached links, clicks wait in the buffer, the rest answers 503.
  const redis = new Redis(config.redisUrl, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 3000,
  });
  redis.on('error', (error: Error) => log(`hanglink: redis: ${error.message}`));
  const ready = new Promise<void>((resolve) => {
    redis.once('ready', () => resolve());
    setTimeout(() => {
      log('hanglink: Redis is not reachable yet; starting anyway (/readyz says so), known links will load once it is');
      resolve();
    }, READY_WAIT_MS).unref();
  });
  return { store: createRedisStore(redis, { prefix: config.redisPrefix, clickPolicy: config.clickPolicy }), kind: 'redis', ready };
}
