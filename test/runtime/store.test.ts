import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { redisEvictionWarning, redisVersionProblem } from '../../src/runtime/store.js';

const memoryInfo = (policy: string) => `# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\nmaxmemory_policy:${policy}\r\n`;
const info = (version: string) => `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n`;

describe('the Redis version check at start', () => {
  it('accepts Redis 7.0 and anything newer', () => {
    for (const version of ['7.0.0', '7.0.15', '7.2.4', '7.10.1', '8.0.2']) expect(redisVersionProblem(info(version))).toBeNull();
  });

  it('refuses an older Redis, naming the version found and the one needed', () => {
    expect(redisVersionProblem(info('6.2.14'))).toBe(
      'REDIS_URL points at Redis 6.2; hanglink needs Redis 7.0 or newer (the oldest it is tested with)',
    );
    expect(redisVersionProblem(info('5.0.7'))).toMatch(/Redis 5\.0; hanglink needs Redis 7\.0 or newer/);
  });

  it('leaves a server that does not say its version to the commands themselves', () => {
    expect(redisVersionProblem('# Server\r\nredis_mode:standalone\r\n')).toBeNull();
  });

  it('passes the Redis these tests run against', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      expect(redisVersionProblem(await redis.info('server'))).toBeNull();
    } finally {
      redis.disconnect();
    }
  });
});

describe('the eviction policy check', () => {
  it('warns of every policy that deletes keys when Redis is full, naming it and the fix', () => {
    for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
      const warning = redisEvictionWarning(memoryInfo(policy));
      expect(warning).toContain(`maxmemory-policy is ${policy}`);
      expect(warning).toContain('set maxmemory-policy noeviction');
    }
  });

  it('is quiet for noeviction, and for a server that does not say', () => {
    expect(redisEvictionWarning(memoryInfo('noeviction'))).toBeNull();
    expect(redisEvictionWarning('# Memory\r\nused_memory:1000\r\n')).toBeNull();
  });
});
