import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../src/runtime/node-gateway.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { postJson, tempSpoolFile } from '../helpers/entry.js';
import { storedLink } from '../helpers/links.js';
import { eventually, sleep } from '../helpers/load.js';
import { freePort, type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';
import { streamClickIds } from '../helpers/redis.js';

const ADMIN = 'refusals-admin-token-0123456789';

// What the API answers rests on this: an outage is a 503 the client may retry, anything else a bug.
// A Redis of the test's own, since each case changes its settings or its role.
describe('what the Redis store calls a refusal', { timeout: 30_000 }, () => {
  let redis: OwnRedis;
  let admin: Redis;
  let client: Redis;
  let store: ReturnType<typeof createRedisStore>;
  const refusal = (write: Promise<unknown>) => write.then(() => 'done', (error: unknown) => store.outage(error));

  beforeAll(async () => {
    redis = await startOwnRedis();
    admin = new Redis(redis.url);
    client = new Redis(redis.url);
    store = createRedisStore(client, { prefix: 'hl-refusals:' });
  });
  afterEach(async () => {
    await admin.config('SET', 'maxmemory', '0');
    await admin.replicaof('NO', 'ONE');
    await admin.config('SET', 'replica-serve-stale-data', 'yes');
  });
  afterAll(async () => {
    await store?.close();
    admin?.disconnect();
    await redis?.destroy();
  });

  it('a write refused for want of memory is "full", from a script or a transaction', async () => {
    await admin.config('SET', 'maxmemory', '1');
    expect(await refusal(store.createLink(storedLink('FullLink1')))).toBe('full');
    expect(await refusal(store.countRequest('merchant:mer_full', 1, 60_000))).toBe('full');
    await admin.config('SET', 'maxmemory', '0');
    expect(await refusal(store.createLink(storedLink('FullLink1')))).toBe('done');
  });

  it('a write to a replica, as after a failover, is "unreachable"; so is a read from a replica cut off from its primary', async () => {
    // A primary that is not there: the replica keeps its data and refuses writes.
    await admin.replicaof('127.0.0.1', String(await freePort()));
    expect(await refusal(store.createLink(storedLink('ReplicaLink1')))).toBe('unreachable');
    expect(await refusal(store.countRequest('merchant:mer_replica', 1, 60_000))).toBe('unreachable');
    await admin.config('SET', 'replica-serve-stale-data', 'no');
    expect(await refusal(store.getLink('ReplicaLink1'))).toBe('unreachable');
  });

  it('a command while a script runs past its time limit is "unreachable"', async () => {
    await admin.config('SET', 'busy-reply-threshold', '50');
    const busy = new Redis(redis.url);
    let spinning: Promise<unknown> = Promise.resolve();
    try {
      spinning = busy.eval(
        "local from = redis.call('TIME') repeat local now = redis.call('TIME') until (now[1] - from[1]) * 1000000 + now[2] - from[2] > 1000000 return 1",
        0,
      );
      // Until the script has run past the threshold, commands are answered as usual.
      const deadline = Date.now() + 900;
      let seen = await refusal(store.getLink('AnyLink1'));
      while (seen === 'done' && Date.now() < deadline) {
        await sleep(20);
        seen = await refusal(store.getLink('AnyLink1'));
      }
      expect(seen).toBe('unreachable');
    } finally {
      await spinning.catch(() => {});
      busy.disconnect();
      await admin.config('SET', 'busy-reply-threshold', '5000');
    }
  });

  it('anything else is not an outage: a key of the wrong type, a command Redis does not know', async () => {
    await client.set('hl-refusals:plain', 'a string');
    expect(await refusal(client.hget('hl-refusals:plain', 'field'))).toBeNull();
    expect(await refusal(client.call('NOSUCHCOMMAND'))).toBeNull();
  });
});

// A Redis of the test's own: its memory settings and role are changed here, which no shared server's may be.
describe('a gateway on a Redis that refuses writes', { timeout: 60_000 }, () => {
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
        HANGLINK_SIGNING_KEYS: 'k1:refusals-signing-secret-0123456789',
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

  it('answers the merchant API 503, to retry later, while Redis is full, and serves it again once there is room', async () => {
    const gateway: Gateway = await start([]);
    try {
      const base = `http://127.0.0.1:${gateway.port}`;
      const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'full-api' });
      const mint = (path: string, body: unknown) =>
        fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const item = { url: 'https://item.taobao.com/item.htm?id=8', noteId: 'n-8', category: 'beauty' };

      await admin.config('SET', 'maxmemory', '1');
      for (const refused of [await mint('/v1/links', item), await mint('/v1/links/bulk', { items: [item] })]) {
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

  it('keeps redirecting while Redis is full, holds the clicks, and writes each once when there is room again', async () => {
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
      expect(new Set(await streamClickIds(admin, stream)).size).toBe(21);
      expect(logged.some((line) => line.includes('clicks are written to the store again'))).toBe(true);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await gateway.shutdown();
    }
  });

  it('keeps redirecting while Redis is a replica (after a failover), answers the merchant API 503 to retry shortly, and writes the clicks it held once Redis is promoted', async () => {
    const gateway = await start([]);
    try {
      const base = `http://127.0.0.1:${gateway.port}`;
      const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'replica' });
      const item = { url: 'https://item.taobao.com/item.htm?id=5', noteId: 'n-5', category: 'beauty' };
      const link = await postJson(base, '/v1/links', merchant.apiKey as string, item);
      const tap = () => fetch(`${base}/${link.code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } });
      const stream = `hl:clicks:${merchant.id}`;

      await admin.replicaof('127.0.0.1', String(await freePort()));
      for (let i = 0; i < 10; i++) expect((await tap()).status).toBe(302);
      const refused = await fetch(`${base}/v1/links`, {
        method: 'POST',
        headers: { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(item),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toMatchObject({ type: 'https://hanglink.dev/problems/store-unavailable' });
      expect(await admin.xlen(stream)).toBe(0);

      await admin.replicaof('NO', 'ONE');
      await eventually('the held clicks in Redis', async () => (await admin.xlen(stream)) === 10);
      expect(new Set(await streamClickIds(admin, stream)).size).toBe(10);
    } finally {
      await admin.replicaof('NO', 'ONE');
      await gateway.shutdown();
    }
  });
});
