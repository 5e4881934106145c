import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import worker from '../../src/runtime/worker.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { storedLinkClicks, testRedis, type TestRedis } from '../helpers/redis.js';

const ADMIN = 'worker-admin-token-0123456789';

describe('the Workers entry', () => {
  let redis: TestRedis;
  let env: Record<string, string>;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (promise: Promise<unknown>) => void pending.push(promise) };
  const call = (path: string, init: RequestInit = {}) => worker.fetch(new Request(`https://go.example.test${path}`, init), env, ctx);

  beforeAll(async () => {
    redis = await testRedis();
    env = {
      NODE_ENV: 'production',
      REDIS_URL: inject('redisUrl'),
      HANGLINK_REDIS_PREFIX: redis.prefix,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'edge:worker-signing-secret-0123456789',
      HANGLINK_PUBLIC_URL: 'https://go.example.test',
    };
  });
  afterAll(() => redis.cleanup());

  it('serves the same app from bindings and writes each tap after answering, through waitUntil', async () => {
    const json = (key: string, body: unknown): RequestInit => ({
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const merchant = (await (await call('/v1/admin/merchants', json(ADMIN, { name: 'edge' }))).json()) as { apiKey: string };
    const link = (await (
      await call('/v1/links', json(merchant.apiKey, { url: 'https://item.taobao.com/item.htm?id=8', noteId: 'n-8', category: 'beauty' }))
    ).json()) as { code: string; shortUrl: string };

    const tap = await call(`/${link.code}`, { headers: { 'cf-connecting-ip': '192.0.2.55', 'user-agent': SHOPPER_USER_AGENT } });
    expect(link.shortUrl).toBe(`https://go.example.test/${link.code}`);
    expect(tap.status).toBe(302);
    expect(tap.headers.get('location')).toContain('hl_kid=edge');

    await Promise.all(pending);
    expect(await storedLinkClicks(redis.redis, redis.prefix, link.code)).toBe('1');
  });

  // The Workers runtime lets no request use a socket another request opened (Node does not enforce it):
  // a connection kept for the next request fails there.
  it('opens its own connection to Redis for each request, and closes it once the request’s writes are done', async () => {
    const workerConnections = async () =>
      String(await redis.redis.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=hanglink-${redis.prefix} `)).length;
    const merchant = await call('/v1/admin/merchants', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'per request' }),
    });
    expect(merchant.status).toBe(201);
    const readiness = await Promise.all([call('/readyz'), call('/readyz'), call('/readyz')]);
    expect(readiness.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(await workerConnections()).toBeGreaterThan(0);
    await Promise.all(pending.splice(0));
    await expect.poll(workerConnections, { timeout: 5000 }).toBe(0);
  });
});
