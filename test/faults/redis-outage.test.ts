import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { type Gateway, startGateway } from '../../src/runtime/node-gateway.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';

const ADMIN = 'outage-admin-token-0123456789';

describe('when Redis goes away and comes back', () => {
  let redis: OwnRedis;
  let gateway: Gateway;
  const base = () => `http://127.0.0.1:${gateway.port}`;
  const api = async (path: string, key: string, body: unknown) => {
    const res = await fetch(`${base()}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, string>;
  };
  const tap = (code: string) => fetch(`${base()}/${code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } });

  beforeAll(async () => {
    redis = await startOwnRedis({ persistent: true });
    gateway = await startGateway(
      {
        PORT: '0',
        REDIS_URL: redis.url,
        HANGLINK_ADMIN_TOKEN: ADMIN,
        HANGLINK_SIGNING_KEYS: 'k1:outage-signing-secret-0123456789',
        HANGLINK_FLOOD_LIMIT: '100000',
        // Short, so the outage outlasts every cached entry: known links must survive on what was known.
        HANGLINK_LINK_CACHE_TTL_MS: '200',
      },
      () => {},
    );
  });
  afterAll(async () => {
    await gateway?.shutdown().catch(() => {});
    await redis?.destroy();
  });

  it('keeps redirecting known links, answers 503 for the rest, and writes every click exactly once when Redis is back', async () => {
    const merchant = await api('/v1/admin/merchants', ADMIN, { name: 'outage' });
    const link = await api('/v1/links', merchant.apiKey as string, { url: 'https://item.taobao.com/item.htm?id=9', noteId: 'n-9', category: 'beauty' });
    let served = 0;
    for (let i = 0; i < 20; i++) if ((await tap(link.code as string)).status === 302) served++;

    await redis.stop();
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 50; i++) if ((await tap(link.code as string)).status === 302) served++;
    expect(served).toBe(70);

    const unknown = await tap('NeverMinted');
    expect(unknown.status).toBe(503);
    expect(unknown.headers.get('retry-after')).toBe('1');
    const read = await fetch(`${base()}/v1/links/${link.code}`, { headers: { authorization: `Bearer ${merchant.apiKey}` } });
    expect(read.status).toBe(503);
    expect(read.headers.get('content-type')).toBe('application/problem+json');
    const notReady = await fetch(`${base()}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { clicks: { buffered: number } }).clicks.buffered).toBeGreaterThan(0);

    await redis.start();
    // The client reconnects on its own and the buffer drains; bounded wait.
    const deadline = Date.now() + 15_000;
    let buffered = Number.POSITIVE_INFINITY;
    while (Date.now() < deadline && buffered > 0) {
      await new Promise((r) => setTimeout(r, 200));
      const ready = await fetch(`${base()}/readyz`);
      buffered = ready.status === 200 ? ((await ready.json()) as { clicks: { buffered: number } }).clicks.buffered : buffered;
    }
    expect(buffered).toBe(0);

    const check = new Redis(redis.url);
    try {
      const entries = await check.xrange(`hl:clicks:${merchant.id}`, '-', '+');
      const ids = entries.map(([, fields]) => fields[fields.indexOf('clickId') + 1]);
      expect(ids).toHaveLength(70);
      expect(new Set(ids).size).toBe(70);
      expect(await check.get(`hl:linkclicks:${link.code}`)).toBe('70');
    } finally {
      check.disconnect();
    }
    expect((await tap(link.code as string)).status).toBe(302);
  });
});
