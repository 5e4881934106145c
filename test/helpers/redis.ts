import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { inject } from 'vitest';
import { streamEntryFields } from '../../src/store/redis/click-fields.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { defineScripts } from '../../src/store/redis/scripts.js';

export interface TestRedis {
  redis: Redis;
  /** Unique to this call, so tests can share one server without seeing each other's keys. */
  prefix: string;
  /** Deletes this prefix's keys, and only those, then disconnects. */
  cleanup(): Promise<void>;
}

export async function testRedis(): Promise<TestRedis> {
  const redis = new Redis(inject('redisUrl'));
  const prefix = `hltest:${nanoid(8)}:`;
  return {
    redis,
    prefix,
    async cleanup() {
      // The test may have closed the client through its store; the keys still have to go.
      const client = redis.status === 'end' ? redis.duplicate() : redis;
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length > 0) await client.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      await client.quit();
    },
  };
}

/**
 * Applies the counts click writes left pending (src/store/redis/scripts.ts), as every read of counts
 * through the store does first: for tests that read counter keys themselves.
 */
export async function applyPendingCounts(redis: Redis, prefix: string): Promise<void> {
  // A pipeline knows the scripts defined before it was made.
  const scripts = defineScripts(redis);
  const pipeline = redis.pipeline();
  const keys = redisKeys(prefix);
  scripts.queueFold(pipeline, { head: keys.pendingCounts(), legacyList: keys.legacyPendingCounts() });
  const [[error]] = (await pipeline.exec()) as [[Error | null, unknown]];
  if (error) throw error;
}

/** A link's billable click count as stored (null when it has none), its pending counts applied. */
export async function storedLinkClicks(redis: Redis, prefix: string, code: string): Promise<string | null> {
  await applyPendingCounts(redis, prefix);
  return redis.get(redisKeys(prefix).linkClicks(code));
}

/** The click ids in a click stream, oldest first. */
export async function streamClickIds(redis: Redis, streamKey: string): Promise<(string | undefined)[]> {
  return (await redis.xrange(streamKey, '-', '+')).map(([, fields]) => streamEntryFields(fields).get('clickId'));
}
