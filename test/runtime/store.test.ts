import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { clickRecord, enrichClick } from '../../src/domain/click.js';
import { UserAgentCache } from '../../src/domain/user-agent.js';
import { openStore, redisEvictionWarning, redisVersionProblem } from '../../src/runtime/store.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { testRedis } from '../helpers/redis.js';

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

describe('how long a click stays known, from the attribution window', () => {
  const DAY_S = 24 * 3600;
  const categories = readFileSync(new URL('../../config/categories.json', import.meta.url), 'utf8');
  const configWith = (env: Record<string, string>) => loadConfig({ HANGLINK_ATTRIBUTION_WINDOW_DAYS: '30', ...env }, () => categories).config;
  const aTap = (clickId: string, at: number) =>
    enrichClick(
      clickRecord(
        { clickId, linkCode: 'code-a', merchantId: 'm1', noteId: 'note-1', campaignId: null, at, route: 'web' },
        { userAgent: SHOPPER_USER_AGENT, referrer: undefined, acceptLanguage: undefined, ip: '203.0.113.9' },
      ),
      new UserAgentCache().classify(SHOPPER_USER_AGENT),
    );
  const quiet = () => {};

  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps a click in Redis for a 30-day window and a day, so an order on day 30 still finds it', async () => {
    const redis = await testRedis();
    const { store, ready } = openStore(configWith({ REDIS_URL: inject('redisUrl'), HANGLINK_REDIS_PREFIX: redis.prefix }), quiet);
    try {
      await ready;
      await store.writeClicks([aTap('click-30-days', Date.now())]);
      const ttl = await redis.redis.ttl(`${redis.prefix}click:click-30-days`);
      expect(ttl).toBeGreaterThan(31 * DAY_S - 60);
      expect(ttl).toBeLessThanOrEqual(31 * DAY_S);
    } finally {
      await store.close();
      await redis.cleanup();
    }
  });

  it('keeps a click in the in-process store for the window and a day, then forgets it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.parse('2026-03-01T00:00:00Z');
    vi.setSystemTime(start);
    const { store } = openStore(configWith({}), quiet);
    await store.writeClicks([aTap('click-in-memory', start)]);
    vi.setSystemTime(start + 30.9 * DAY_S * 1000);
    expect(await store.clickOrigin('click-in-memory')).toMatchObject({ merchantId: 'm1', linkCode: 'code-a', at: start });
    vi.setSystemTime(start + 31.1 * DAY_S * 1000);
    expect(await store.clickOrigin('click-in-memory')).toBeNull();
  });
});
