import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredClick } from '../../src/domain/click.js';
import { minuteOf } from '../../src/domain/time-buckets.js';
import { clickFromFields } from '../../src/store/redis/click-fields.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';
import { describeStoreContract } from './store.contract.js';

// Counts wait in hashes until a click write brings the clicks written since the last fold to the limit, or a read applies them: once
// with the default limit (reads apply them), once with each write applying its own.
for (const [name, countsFoldAt] of [
  ['redis', undefined],
  ['redis, each click write applying its counts', 1],
] as const) {
  describeStoreContract(name, async (options = {}) => {
    const { redis, prefix, cleanup } = await testRedis();
    const keys = redisKeys(prefix);
    return {
      store: createRedisStore(redis, { prefix, countsFoldAt, ...options }),
      readClicks: async (merchantId) =>
        (await redis.xrange(keys.clickStream(merchantId), '-', '+')).map(([, fields]) => clickFromFields(fields)),
      cleanup,
    };
  });
}

describe('redis store specifics', () => {
  let server: TestRedis;
  beforeEach(async () => {
    server = await testRedis();
  });
  afterEach(async () => {
    await server.cleanup();
  });

  const click: StoredClick = {
    clickId: 'c1',
    linkCode: 'code-a',
    merchantId: 'm1',
    noteId: 'note-1',
    campaignId: null,
    at: 1_740_787_205_000,
    userAgent: 'Mozilla/5.0',
    referrer: '',
    acceptLanguage: 'en',
    ipPrefix: '203.0.113.0/24',
    route: 'web',
    visitorId: 'visitor-1',
    bot: false,
    deviceType: 'desktop',
    platform: 'desktop',
    os: 'Windows',
    osVersion: '10',
    browser: 'Chrome',
    browserVersion: '120.0',
    inApp: '',
  };

  it('remembers a click id for the configured time, with what an order needs to find its click', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix, clickTtlSeconds: 600 });
    await store.writeClicks([click]);
    const marker = redisKeys(server.prefix).click('c1');
    // Merchant, link, note, campaign ('' for none), and the time last (click-fields.ts says why).
    expect(await server.redis.get(marker)).toBe('m1\x1fcode-a\x1fnote-1\x1f\x1f1740787205000');
    expect(await store.clickOrigin('c1')).toEqual({ merchantId: 'm1', linkCode: 'code-a', noteId: 'note-1', campaignId: null, at: 1740787205000 });
    const ttl = await server.redis.ttl(marker);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('rejects a click batch whose stream something else overwrote, writing none of it, and writes it whole once the stream is back', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix });
    const keys = redisKeys(server.prefix);
    await server.redis.set(keys.clickStream('m1'), 'not a stream');
    const batch = [click, { ...click, clickId: 'c2' }];
    await expect(store.writeClicks(batch)).rejects.toThrow(/WRONGTYPE/);
    await expect(store.writeClicks(batch)).rejects.toThrow(/WRONGTYPE/);
    expect(await server.redis.exists(keys.click('c1'), keys.click('c2'), keys.visit('code-a', 'visitor-1'))).toBe(0);

    await server.redis.del(keys.clickStream('m1'));
    await store.writeClicks(batch);
    expect((await server.redis.xrange(keys.clickStream('m1'), '-', '+')).map(([, fields]) => clickFromFields(fields).clickId)).toEqual(['c1', 'c2']);
  });

  const clickOn = (linkCode: string, i: number): StoredClick => ({ ...click, clickId: `c-${linkCode}-${i}`, linkCode, visitorId: `visitor-${i}` });

  it('leaves each write’s counts pending until the write that brings the clicks written to the limit applies them all', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix, countsFoldAt: 4 });
    const keys = redisKeys(server.prefix);
    const linkHour = keys.counters('m1', 'link', 'code-a', 'h2025030100');
    await store.writeClicks([clickOn('code-a', 1), clickOn('code-b', 1)]);
    await store.writeClicks([clickOn('code-a', 2)]);
    // Per link (its counter keys and ids joined), its unique taps so far; and the clicks that left them.
    expect(Object.values(await server.redis.hgetall(`${keys.pendingCounts()}unique`)).sort()).toEqual(['1', '2']);
    expect(await server.redis.get(`${keys.pendingCounts()}clicks`)).toBe('3');
    expect(await server.redis.exists(linkHour, keys.linkClicks('code-a'), keys.counterGroups('m1', 'link'))).toBe(0);

    await store.writeClicks([clickOn('code-a', 3)]);
    expect(await server.redis.keys(`${keys.pendingCounts()}*`)).toEqual([]);
    expect(await server.redis.hgetall(linkHour)).toEqual({ clicks: '3', uniqueClicks: '3' });
    expect(await server.redis.hgetall(keys.counters('m1', 'merchant', 'm1', 'd20250301'))).toEqual({ clicks: '4', uniqueClicks: '4' });
    expect(await server.redis.mget(keys.linkClicks('code-a'), keys.linkClicks('code-b'))).toEqual(['3', '1']);
    expect((await server.redis.smembers(keys.counterGroups('m1', 'link'))).sort()).toEqual(['code-a', 'code-b']);
  });

  it('applies the pending counts before a read of counts, and a retried batch leaves none', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix });
    const keys = redisKeys(server.prefix);
    const batch = [clickOn('code-a', 1), clickOn('code-a', 2)];
    await store.writeClicks(batch);
    await store.writeClicks(batch);
    expect(Object.values(await server.redis.hgetall(`${keys.pendingCounts()}unique`))).toEqual(['2']);
    expect(await server.redis.get(`${keys.pendingCounts()}clicks`)).toBe('2');
    expect(await store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 2]]));
    expect(await server.redis.keys(`${keys.pendingCounts()}*`)).toEqual([]);
    await store.writeClicks([clickOn('code-a', 3)]);
    const counters = await store.readCounters('m1', 'link', ['h2025030100']);
    expect(counters.get('code-a')?.get('h2025030100')).toEqual({ clicks: 3, uniqueClicks: 3 });
  });

  it('removes the count of calls that earlier versions kept beside the pending counts, when it applies them', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix });
    const keys = redisKeys(server.prefix);
    // Up to click script V13 the limit counted calls, not clicks: at most 127 of them were left.
    await server.redis.set(`${keys.pendingCounts()}calls`, '127');
    await store.writeClicks([clickOn('code-a', 1)]);
    expect(await server.redis.get(`${keys.pendingCounts()}calls`)).toBe('127');

    expect(await store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 1]]));
    expect(await server.redis.keys(`${keys.pendingCounts()}*`)).toEqual([]);
  });

  it('applies the counts that earlier versions left pending in a list, with those pending now', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix });
    const keys = redisKeys(server.prefix);
    // An entry as click script V9 pushed it: per link, COUNT_FIELDS joined, then clicks, unique, bot and suspect clicks.
    const where = [keys.countersOf('m1'), 'h2025030100', 'd20250301', keys.counterGroupsOf('m1'), keys.linkClicks('code-a'), 'm1', '', 'note-1', 'code-a'].join('\x1f');
    await server.redis.eval("return redis.call('RPUSH', KEYS[1], cmsgpack.pack({ ARGV[1], 2, 1, 1, 0 }))", 1, keys.legacyPendingCounts(), where);
    await store.writeClicks([clickOn('code-a', 1)]);

    expect(await store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 3]]));
    expect(await server.redis.exists(keys.legacyPendingCounts())).toBe(0);
    const counters = await store.readCounters('m1', 'link', ['h2025030100']);
    expect(counters.get('code-a')?.get('h2025030100')).toEqual({ clicks: 3, uniqueClicks: 2, botClicks: 1 });
  });

  it('applies pending counts for more groups than one Redis command can take at once', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix, countsFoldAt: 100 });
    const codes = Array.from({ length: 9000 }, (_, i) => `code-${i}`);
    await store.writeClicks(codes.map((code) => clickOn(code, 1)));
    const counters = await store.readCounters('m1', 'link', ['d20250301']);
    expect(counters.size).toBe(codes.length);
    expect(counters.get('code-8999')?.get('d20250301')).toEqual({ clicks: 1, uniqueClicks: 1 });
  });

  it('still writes clicks, and their other counts, when something else broke one of their counter keys', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix, countsFoldAt: 1 });
    const keys = redisKeys(server.prefix);
    await server.redis.set(keys.linkClicks('code-a'), 'not a number');
    await store.writeClicks([clickOn('code-a', 1), clickOn('code-b', 1)]);
    expect(await server.redis.xlen(keys.clickStream('m1'))).toBe(2);
    expect(await server.redis.get(keys.linkClicks('code-a'))).toBe('not a number');
    expect(await store.clickCounts(['code-b'])).toEqual(new Map([['code-b', 1]]));
    expect(await server.redis.hgetall(keys.counters('m1', 'link', 'code-a', 'h2025030100'))).toEqual({ clicks: '1', uniqueClicks: '1' });
  });

  it('lays its data out under the documented keys', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix });
    const keys = redisKeys(server.prefix);
    await store.createMerchant(
      { id: 'm1', name: 'M', approvedCategories: [], currency: 'CNY', createdAt: '2025-03-01T00:00:00.000Z' },
      'hash-1',
    );
    await store.createLink({
      code: 'code-a',
      merchantId: 'm1',
      url: 'https://shop.example/',
      noteId: 'note-1',
      campaignId: 'spring',
      category: 'fashion',
      externalId: 'sku-1',
      expiresAt: null,
      appUrl: null,
      ios: null,
      android: null,
      desktop: null,
      maxClicks: null,
      status: 'active',
      createdAt: '2025-03-01T00:00:00.000Z',
      updatedAt: '2025-03-01T00:00:00.000Z',
    });
    await store.writeClicks([click]);
    const layout: Record<string, string> = {};
    const readLayout = async () => {
      for (const key of Object.keys(layout)) delete layout[key];
      for (const key of await server.redis.keys(`${server.prefix}*`)) layout[key] = await server.redis.type(key);
    };
    const beforeCounted = {
      [keys.merchant('m1')]: 'string',
      [keys.apiKey('hash-1')]: 'string',
      [keys.link('code-a')]: 'string',
      [keys.externalId('m1', 'sku-1')]: 'string',
      [keys.merchantLinks('m1')]: 'zset',
      [keys.noteLinks('m1', 'note-1')]: 'zset',
      [keys.campaignLinks('m1', 'spring')]: 'zset',
      [keys.click('c1')]: 'string',
      [keys.clickStream('m1')]: 'stream',
      [keys.visit('code-a', 'visitor-1')]: 'string',
    };
    await readLayout();
    expect(layout).toEqual({ ...beforeCounted, [`${keys.pendingCounts()}unique`]: 'hash', [`${keys.pendingCounts()}clicks`]: 'string' });

    await store.clickCounts(['code-a']);
    await readLayout();
    expect(layout).toEqual({
      ...beforeCounted,
      [keys.linkClicks('code-a')]: 'string',
      ...Object.fromEntries(
        (
          [
            ['merchant', 'm1'],
            ['campaign', ''],
            ['note', 'note-1'],
            ['link', 'code-a'],
          ] as const
        ).flatMap(([type, id]) => [
          [keys.counterGroups('m1', type), 'set'],
          [keys.counters('m1', type, id, 'h2025030100'), 'hash'],
          [keys.counters('m1', type, id, 'd20250301'), 'hash'],
        ]),
      ),
    });
    expect(await server.redis.zrange(keys.merchantLinks('m1'), 0, '-1', 'WITHSCORES')).toEqual(['001740787200000:code-a', '0']);
  });

  it('keeps the repeat and flood state of a visitor for its repeat window and a minute more, then lets it expire', async () => {
    const repeatWindowMs = 5 * 60_000;
    const store = createRedisStore(server.redis, { prefix: server.prefix, clickPolicy: { repeatWindowMs, floodLimitPerMinute: 20 } });
    await store.writeClicks([click]);
    const ttl = await server.redis.pttl(redisKeys(server.prefix).visit('code-a', 'visitor-1'));
    expect(ttl).toBeGreaterThan(repeatWindowMs);
    expect(ttl).toBeLessThanOrEqual(repeatWindowMs + 60_000);
  });

  it('leaves the expiry a visit had when a repeat within its window is written, and sets it anew for a tap that begins a window', async () => {
    const repeatWindowMs = 5 * 60_000;
    const store = createRedisStore(server.redis, { prefix: server.prefix, clickPolicy: { repeatWindowMs, floodLimitPerMinute: 20 } });
    const visit = redisKeys(server.prefix).visit('code-a', 'visitor-1');
    await store.writeClicks([click]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await store.writeClicks([{ ...click, clickId: 'c2', at: click.at + 1000 }]);
    expect(await server.redis.get(visit)).toBe(`${click.at} ${minuteOf(click.at)} 2`);
    expect(await server.redis.pttl(visit)).toBeLessThanOrEqual(repeatWindowMs + 60_000 - 100);

    await store.writeClicks([{ ...click, clickId: 'c3', at: click.at + repeatWindowMs }]);
    expect(await server.redis.pttl(visit)).toBeGreaterThan(repeatWindowMs + 60_000 - 100);
  });

  // Another tool may have written there: a value this store cannot read, or a key of another type.
  const unreadableStates: [string, (redis: TestRedis['redis'], key: string) => Promise<unknown>][] = [
    ['holds something it cannot read', (redis, key) => redis.set(key, 'not a visit')],
    ['is not a string at all', (redis, key) => redis.hset(key, 'written', 'by another tool')],
  ];
  it.each(unreadableStates)('counts a tap as unique where the visitor\'s state %s, and replaces it', async (_, write) => {
    const store = createRedisStore(server.redis, { prefix: server.prefix });
    const visit = redisKeys(server.prefix).visit('code-a', 'visitor-1');
    await write(server.redis, visit);
    await store.writeClicks([click, { ...click, clickId: 'c2', at: click.at + 1000 }]);
    const kinds = (await store.readClicks('m1', 0, Number.MAX_SAFE_INTEGER, 10, null)).clicks.map((c) => c.kind);
    expect(kinds).toEqual(['unique', 'repeat']);
    expect(await server.redis.get(visit)).toBe(`${click.at} ${minuteOf(click.at)} 2`);
  });

  it('closes its connection', async () => {
    const store = createRedisStore(server.redis, { prefix: server.prefix });
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});

describe('closing the Redis store', () => {
  it('stops a client that never reached Redis from trying again, where QUIT had no connection to go over', async () => {
    const client = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const store = createRedisStore(client, { prefix: 'hl-never-connected:' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await store.close();
    let attempts = 0;
    client.on('reconnecting', () => attempts++);
    // ioredis waits 50 ms more before each attempt: a client still trying tries again within this.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(attempts).toBe(0);
  });
});
