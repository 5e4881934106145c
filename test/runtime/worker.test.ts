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
});
