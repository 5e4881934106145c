import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { type Gateway, startGateway } from '../../src/runtime/node-gateway.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { postJson, tempSpoolFile } from '../helpers/entry.js';
import { eventually } from '../helpers/load.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';
import { storedLinkClicks } from '../helpers/redis.js';

const ADMIN = 'slow-admin-token-0123456789';

// Real outages take seconds, and the machine may be busy with the rest of the suite.
describe('when Redis stalls', { timeout: 60_000 }, () => {
  let redis: OwnRedis;
  let gateway: Gateway;
  let staller: Redis;

  beforeAll(async () => {
    redis = await startOwnRedis();
    staller = new Redis(redis.url);
    gateway = await startGateway(
      {
        PORT: '0',
        REDIS_URL: redis.url,
        HANGLINK_ADMIN_TOKEN: ADMIN,
        HANGLINK_SIGNING_KEYS: 'k1:slow-signing-secret-0123456789',
        HANGLINK_FLOOD_LIMIT: '100000',
        HANGLINK_CLICK_SPOOL: tempSpoolFile(),
      },
      () => {},
    );
  });
  afterAll(async () => {
    await gateway?.shutdown().catch(() => {});
    staller?.disconnect();
    await redis?.destroy();
  });

  it('answers taps of a known link while Redis is blocked, and writes their clicks after', async () => {
    const base = `http://127.0.0.1:${gateway.port}`;
    const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'slow' });
    const link = await postJson(base, '/v1/links', merchant.apiKey as string, { url: 'https://item.taobao.com/item.htm?id=3', noteId: 'n-3', category: 'beauty' });
    const tap = () => fetch(`${base}/${link.code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } });
    expect((await tap()).status).toBe(302);

    // DEBUG SLEEP blocks the whole server; the gateway's clicks and link refreshes queue behind it.
    let stalled = true;
    const stall = staller.call('DEBUG', 'SLEEP', '0.4').then(() => {
      stalled = false;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const answeredDuringStall: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await tap();
      expect(res.status).toBe(302);
      answeredDuringStall.push(stalled);
    }
    await stall;
    expect(answeredDuringStall.every(Boolean)).toBe(true);

    const check = new Redis(redis.url);
    try {
      await eventually('the clicks to be written', async () => (await check.xlen(`hl:clicks:${merchant.id}`)) === 21);
      expect(await storedLinkClicks(check, 'hl:', link.code as string)).toBe('21');
    } finally {
      check.disconnect();
    }
  });
});
