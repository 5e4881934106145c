import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../src/runtime/node-gateway.js';
import { redisEvictionWarning } from '../../src/runtime/store.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { storedLink } from '../helpers/links.js';
import { postJson, tempSpoolFile } from '../helpers/entry.js';
import { eventually } from '../helpers/load.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';
import { streamEntryFields } from '../../src/store/redis/click-fields.js';

const ADMIN = 'full-admin-token-0123456789';
const info = (policy: string) => `# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\nmaxmemory_policy:${policy}\r\n`;

describe('the eviction policy check', () => {
  it('warns of every policy that deletes keys when Redis is full, naming it and the fix', () => {
    for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
      const warning = redisEvictionWarning(info(policy));
      expect(warning).toContain(`maxmemory-policy is ${policy}`);
      expect(warning).toContain('set maxmemory-policy noeviction');
    }
  });

  it('is quiet for noeviction, and for a server that does not say', () => {
    expect(redisEvictionWarning(info('noeviction'))).toBeNull();
    expect(redisEvictionWarning('# Memory\r\nused_memory:1000\r\n')).toBeNull();
  });
});

// A Redis of the test's own: its memory settings are changed here, which no shared server may be.
describe('a gateway on a Redis that is full', { timeout: 60_000 }, () => {
  let redis: OwnRedis;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startOwnRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.destroy();
  });

  const start = async (logged: string[]) =>
    startGateway(
      {
        PORT: '0',
        REDIS_URL: redis.url,
        HANGLINK_ADMIN_TOKEN: ADMIN,
        HANGLINK_SIGNING_KEYS: 'k1:full-signing-secret-0123456789',
        HANGLINK_CLICK_SPOOL: tempSpoolFile(),
      },
      (line) => logged.push(line),
    );

  it('warns at start when Redis may evict keys, and says nothing when it may not', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const warned: string[] = [];
    await (await start(warned)).shutdown();
    expect(warned.filter((line) => line.includes('maxmemory-policy is allkeys-lru'))).toHaveLength(1);

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    const quiet: string[] = [];
    await (await start(quiet)).shutdown();
    expect(quiet.filter((line) => line.includes('maxmemory-policy'))).toEqual([]);
  });

  it('tells a write Redis refused for want of memory from an outage and from a bug', async () => {
    const client = new Redis(redis.url);
    const store = createRedisStore(client, { prefix: 'hl-full:' });
    const refusal = (write: Promise<unknown>) => write.then(() => 'written', (error: unknown) => store.outage(error));
    try {
      await client.set('hl-full:link:Taken', 'not a link');
      await admin.config('SET', 'maxmemory', '1');
      // A script (refused at its first write) and a transaction (discarded whole).
      expect(await refusal(store.createLink(storedLink('FullLink1')))).toBe('full');
      expect(await refusal(store.countRequest('merchant:mer_full', 1, 60_000))).toBe('full');
      await admin.config('SET', 'maxmemory', '0');
      expect(await refusal(store.createLink(storedLink('FullLink1')))).toBe('written');
      expect(await refusal(client.hget('hl-full:link:Taken', 'field'))).toBeNull();
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await store.close();
    }
  });

  it('answers the merchant API 503 with a problem while Redis refuses writes, and serves it again once there is room', async () => {
    const gateway: Gateway = await start([]);
    try {
      const base = `http://127.0.0.1:${gateway.port}`;
      const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'full-api' });
      const mint = (path: string, body: unknown) =>
        fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const item = { url: 'https://item.taobao.com/item.htm?id=8', noteId: 'n-8', category: 'beauty' };

      await admin.config('SET', 'maxmemory', '1');
      for (const refused of [await mint('/v1/links', item), await mint('/v1/links/bulk', { links: [item] })]) {
        expect(refused.status).toBe(503);
        expect(refused.headers.get('content-type')).toBe('application/problem+json');
        expect(refused.headers.get('retry-after')).toBe('30');
        expect(await refused.json()).toMatchObject({ type: 'https://hanglink.dev/problems/store-unavailable', title: 'Service unavailable', detail: expect.stringContaining('out of memory') });
      }

      await admin.config('SET', 'maxmemory', '0');
      expect((await mint('/v1/links', item)).status).toBe(201);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await gateway.shutdown();
    }
  });

  it('keeps redirecting while Redis refuses writes, holds the clicks, and writes each once when there is room again', async () => {
    const logged: string[] = [];
    const gateway: Gateway = await start(logged);
    try {
      const base = `http://127.0.0.1:${gateway.port}`;
      const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'full' });
      const link = await postJson(base, '/v1/links', merchant.apiKey as string, { url: 'https://item.taobao.com/item.htm?id=7', noteId: 'n-7', category: 'beauty' });
      const tap = () => fetch(`${base}/${link.code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } });
      const stream = `hl:clicks:${merchant.id}`;
      expect((await tap()).status).toBe(302);
      await eventually('the first click in Redis', async () => (await admin.xlen(stream)) === 1);

      // Whatever it holds now is more than this: every write is refused with OOM.
      await admin.config('SET', 'maxmemory', '1');
      for (let i = 0; i < 20; i++) expect((await tap()).status).toBe(302);
      await eventually('a refused flush logged', async () => logged.some((line) => line.includes('click flush failed') && line.includes('OOM')));
      const held = (await (await fetch(`${base}/readyz`)).json()) as { clicks: { buffered: number; spooled: number } };
      expect(held.clicks.buffered + held.clicks.spooled).toBe(20);
      expect(await admin.xlen(stream)).toBe(1);

      await admin.config('SET', 'maxmemory', '0');
      await eventually('the held clicks in Redis', async () => (await admin.xlen(stream)) === 21);
      const clickIds = (await admin.xrange(stream, '-', '+')).map(([, fields]) => streamEntryFields(fields).get('clickId'));
      expect(new Set(clickIds).size).toBe(21);
      expect(logged.some((line) => line.includes('clicks are written to the store again'))).toBe(true);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await gateway.shutdown();
    }
  });
});
