import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../src/runtime/worker.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { eventually } from '../helpers/load.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';

const ADMIN = 'worker-outage-admin-token-0123456789';

// Each request of the Workers entry opens its own connection to Redis (the runtime allows no other), so
// an isolate keeps no link and no click between requests: while Redis is away a tap cannot be served.
describe('the Workers entry when Redis goes away and comes back', { timeout: 60_000 }, () => {
  let redis: OwnRedis;
  let env: Record<string, string>;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (promise: Promise<unknown>) => void pending.push(promise) };
  const call = (path: string, init: RequestInit = {}) => worker.fetch(new Request(`https://go.example.test${path}`, init), env, ctx);
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'log').mockImplementation(() => {});

  beforeAll(async () => {
    redis = await startOwnRedis({ persistent: true });
    env = {
      NODE_ENV: 'production',
      REDIS_URL: redis.url,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'edge:worker-outage-signing-secret-0123456789',
      HANGLINK_PUBLIC_URL: 'https://go.example.test',
    };
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await redis?.destroy();
  });

  it('answers a tap 503 with Retry-After while Redis is away, recording nothing, and writes every tap once it is back', async () => {
    const json = (key: string, body: unknown): RequestInit => ({
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const merchant = (await (await call('/v1/admin/merchants', json(ADMIN, { name: 'edge' }))).json()) as { apiKey: string };
    const link = (await (await call('/v1/links', json(merchant.apiKey, { url: 'https://item.taobao.com/item.htm?id=8', noteId: 'n-8', category: 'beauty' }))).json()) as {
      code: string;
    };
    const tap = () => call(`/${link.code}`, { headers: { 'cf-connecting-ip': '192.0.2.55', 'user-agent': SHOPPER_USER_AGENT } });
    expect((await tap()).status).toBe(302);
    await Promise.all(pending.splice(0));

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const refused = await tap();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('location')).toBeNull();
      await Promise.all(pending.splice(0));
    }

    await redis.start();
    await eventually('Redis to take requests again', async () => (await call('/readyz')).status === 200);
    expect((await tap()).status).toBe(302);
    await Promise.all(pending.splice(0));
    const read = await call(`/v1/links/${link.code}`, { headers: { authorization: `Bearer ${merchant.apiKey}` } });
    expect(((await read.json()) as { clicks: number }).clicks).toBe(2);
  });
});
