import { Redis } from 'ioredis';
import { type Config, ConfigError } from '../config.js';
import { clickLifetimeSeconds } from '../domain/conversion.js';
import { createMemoryStore } from '../store/memory/store.js';
import { createRedisStore } from '../store/redis/store.js';
import type { Store } from '../store/types.js';

export type Log = (line: string) => void;

// How long start-up waits for the first connection before serving anyway.
const READY_WAIT_MS = 3000;
// The oldest Redis the suite runs against. Older ones miss commands hanglink sends (`ZRANGE … BYLEX
// REV`, Redis 6.2) or have not been tried.
const OLDEST_REDIS = [7, 0] as const;

/** Why the Redis that answered `INFO` cannot hold hanglink's data, or null when it can. */
export function redisVersionProblem(serverInfo: string): string | null {
  const version = /^redis_version:(\d+)\.(\d+)/m.exec(serverInfo);
  if (version === null) return null;
  const [major, minor] = [Number(version[1]), Number(version[2])];
  if (major > OLDEST_REDIS[0] || (major === OLDEST_REDIS[0] && minor >= OLDEST_REDIS[1])) return null;
  return `REDIS_URL points at Redis ${major}.${minor}; hanglink needs Redis ${OLDEST_REDIS.join('.')} or newer (the oldest it is tested with)`;
}

/**
 * A warning when the Redis that answered `INFO` may evict keys when full, or null when it refuses
 * writes instead. Evicted, a link stops redirecting and a click's marker, stream entry or counts
 * vanish without an error; refused, click writes fail, and clicks wait in memory and the spool.
 */
export function redisEvictionWarning(info: string): string | null {
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined || policy === 'noeviction') return null;
  return (
    `Redis's maxmemory-policy is ${policy}: at maxmemory it deletes keys without an error, and with them hanglink's links, ` +
    'counts, click streams or the click markers orders are attributed by; set maxmemory-policy noeviction, and a full Redis ' +
    'refuses click writes instead: clicks wait in memory and the spool until it has room'
  );
}

/**
 * Redis when configured; otherwise the in-process store, with a warning nobody can miss. `ready`
 * rejects with a ConfigError when the Redis found at start is too old to write clicks; a Redis that
 * may evict hanglink's keys is warned about, on every connection.
 */
export interface OpenStoreOptions {
  /** How long `ready` waits for the first connection before serving anyway. */
  readyWaitMs?: number;
}

export function openStore(config: Config, log: Log, options: OpenStoreOptions = {}): { store: Store; kind: 'redis' | 'memory'; ready: Promise<void> } {
  const clickTtlSeconds = clickLifetimeSeconds(config.attributionWindowMs);
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
    return { store: createMemoryStore({ clickPolicy: config.clickPolicy, clickTtlSeconds }), kind: 'memory', ready: Promise.resolve() };
  }
  // Fail fast while Redis is away rather than queue: a tap or API call must not hang on it. The
  // redirect keeps serving cached links, clicks wait in the buffer, the rest answers 503.
  const redis = new Redis(config.redisUrl, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 3000,
    // Named, so that CLIENT LIST tells a deployment's connections apart.
    connectionName: `hanglink-${config.redisPrefix}`,
  });
  redis.on('error', (error: Error) => log(`hanglink: redis: ${error.message}`));
  const ready = new Promise<void>((resolve, reject) => {
    const waiting = setTimeout(() => {
      log('hanglink: Redis is not reachable yet; starting anyway (/readyz says so), known links will load once it is');
      resolve();
    }, options.readyWaitMs ?? READY_WAIT_MS);
    waiting.unref?.();
    // On every connection, not only the first: a failover can land on another server.
    redis.on('ready', () => {
      clearTimeout(waiting);
      redis.info().then(
        (info) => {
          const problem = redisVersionProblem(info);
          if (problem !== null) {
            log(`hanglink: ${problem}: clicks cannot be written`);
            return reject(new ConfigError([problem]));
          }
          const eviction = redisEvictionWarning(info);
          if (eviction !== null) log(`hanglink: WARNING: ${eviction}`);
          resolve();
        },
        () => resolve(),
      );
    });
  });
  return { store: createRedisStore(redis, { prefix: config.redisPrefix, clickPolicy: config.clickPolicy, clickTtlSeconds }), kind: 'redis', ready };
}
