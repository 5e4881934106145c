import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../src/runtime/worker.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { eventually, sleep } from '../helpers/load.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';

const ADMIN = 'worker-outage-admin-token-0123456789';

// The Workers entry flushes after every request: through an outage, every request's flush fails.
describe('the Workers entry when Redis goes away and comes back', { timeout: 60_000 }, () => {
  let redis: OwnRedis;
  let env: Record<string, string>;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (promise: Promise<unknown>) => void pending.push(promise) };
  const call = (path: string, init: RequestInit = {}) => worker.fetch(new Request(`https://go.example.test${path}`, init), env, ctx);
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'log').mockImplementation(() => {});

  beforeAll(async () => {
    redis = await startOwnRedis({ persistent: true });
    env = {
      NODE_ENV: 'production',
      REDIS_URL: redis.url,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'edge:worker-outage-signing-secret-0123456789',
      HANGLINK_PUBLIC_URL: 'https://go.example.test',
      // One visitor taps 31 times in a minute here: all must count, none be taken for a flood.
      HANGLINK_FLOOD_LIMIT: '100000',
    };
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await redis?.destroy();
  });

  it('logs the failing flushes once, not once a request, and once more when they work again', async () => {
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
    for (let i = 0; i < 30; i++) {
      expect((await tap()).status).toBe(302);
      await Promise.all(pending.splice(0));
      await sleep(20);
    }
    const lines = () => errors.mock.calls.map(([line]) => String(line));
    expect(lines().filter((line) => line.startsWith('hanglink: flush failed'))).toHaveLength(1);

    await redis.start();
    await eventually('the clicks tapped during the outage to be written', async () => {
      await call('/healthz');
      await Promise.all(pending.splice(0));
      return lines().some((line) => line.startsWith('hanglink: clicks and impressions are written to the store again, after '));
    });
    const read = await call(`/v1/links/${link.code}`, { headers: { authorization: `Bearer ${merchant.apiKey}` } });
    expect(((await read.json()) as { clicks: number }).clicks).toBe(31);
    expect(lines().filter((line) => line.startsWith('hanglink: flush failed'))).toHaveLength(1);
  });
});
