import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { type Gateway, startGateway } from '../../src/runtime/node-gateway.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { postJson, tempSpoolFile } from '../helpers/entry.js';
import { eventually, sleep, tapLoad } from '../helpers/load.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';
import { storedLinkClicks, streamClickIds } from '../helpers/redis.js';

const ADMIN = 'outage-admin-token-0123456789';

interface Readiness {
  status: string;
  clicks: { buffered: number; spooled: number; spoolBytes: number; dropped: number };
}

// Real outages take seconds, and the machine may be busy with the rest of the suite.
describe('when Redis goes away under load and comes back', { timeout: 60_000 }, () => {
  let redis: OwnRedis;
  let gateway: Gateway;
  const logged: string[] = [];
  const spoolFile = tempSpoolFile();
  const base = () => `http://127.0.0.1:${gateway.port}`;
  const readiness = async () => {
    const res = await fetch(`${base()}/readyz`);
    return { status: res.status, body: (await res.json()) as Readiness };
  };

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
        HANGLINK_CLICK_SPOOL: spoolFile,
      },
      (line) => logged.push(line),
    );
  });
  afterAll(async () => {
    await gateway?.shutdown().catch(() => {});
    await redis?.destroy();
  });

  it('keeps redirecting known links, spools their clicks, answers 503 for the rest, writes every click exactly once when Redis is back, and logs the outage once', async () => {
    const merchant = await postJson(base(), '/v1/admin/merchants', ADMIN, { name: 'outage' });
    const link = await postJson(base(), '/v1/links', merchant.apiKey as string, {
      url: 'https://item.taobao.com/item.htm?id=9',
      noteId: 'n-9',
      category: 'beauty',
    });
    const tap = (code: string) => fetch(`${base()}/${code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } });
    expect((await tap(link.code as string)).status).toBe(302);

    const load = tapLoad(`${base()}/${link.code}`, 8);
    await sleep(500);
    await redis.stop();
    await sleep(1500);
    // A note page shows the link meanwhile: its impressions wait in memory, as the clicks do.
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${base()}/i/${link.code}`, { headers: { 'user-agent': SHOPPER_USER_AGENT } })).status).toBe(200);
    }

    const unknown = await tap('NeverMinted');
    expect(unknown.status).toBe(503);
    expect(unknown.headers.get('retry-after')).toBe('1');
    const read = await fetch(`${base()}/v1/links/${link.code}`, { headers: { authorization: `Bearer ${merchant.apiKey}` } });
    expect(read.status).toBe(503);
    expect(read.headers.get('content-type')).toBe('application/problem+json');
    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('unavailable');
    // Past a flush tick the clicks wait on disk, not in memory.
    expect(down.body.clicks.spooled).toBeGreaterThan(0);
    // The file only grows while Redis is away (taps go on), so it holds at least what was reported.
    expect(down.body.clicks.spoolBytes).toBeGreaterThan(0);
    expect(down.body.clicks.spoolBytes).toBeLessThanOrEqual(statSync(spoolFile).size);

    await sleep(1500);
    await redis.start();
    await sleep(1000);
    await load.stop();

    // Nothing a shopper tapped failed: every tap of the known link was redirected.
    expect(Object.fromEntries(load.statuses)).toEqual({ 302: load.statuses.get(302) });
    const served = 1 + (load.statuses.get(302) ?? 0);
    await eventually('the backlog to drain', async () => {
      const { status, body } = await readiness();
      return status === 200 && body.clicks.buffered === 0 && body.clicks.spooled === 0;
    }, 30_000);
    expect((await readiness()).body.clicks.dropped).toBe(0);
    expect(existsSync(spoolFile) && statSync(spoolFile).size).toBe(0);

    const check = new Redis(redis.url);
    try {
      const ids = await streamClickIds(check, `hl:clicks:${merchant.id}`);
      expect(ids).toHaveLength(served);
      expect(new Set(ids).size).toBe(served);
      expect(await storedLinkClicks(check, 'hl:', link.code as string)).toBe(String(served));
    } finally {
      check.disconnect();
    }
    expect((await tap(link.code as string)).status).toBe(302);

    // Flushes failed on every 50 ms tick for about 3 seconds (60 times): the log says so once (twice,
    // should a busy machine stretch the outage past 10 s), and once when it is over.
    const flushLines = logged.filter((line) => line.startsWith('hanglink: click flush failed'));
    expect(flushLines.length).toBeGreaterThanOrEqual(1);
    expect(flushLines.length).toBeLessThanOrEqual(2);
    expect(logged.filter((line) => line.startsWith('hanglink: clicks are written to the store again, after '))).toHaveLength(1);
    const impressionLines = logged.filter((line) => line.startsWith('hanglink: impression flush failed'));
    expect(impressionLines.length).toBeGreaterThanOrEqual(1);
    expect(impressionLines.length).toBeLessThanOrEqual(2);
    expect(logged.filter((line) => line.startsWith('hanglink: impression counts are written to the store again, after '))).toHaveLength(1);
  });
});
