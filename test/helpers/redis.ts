import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { inject } from 'vitest';

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
