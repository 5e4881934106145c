import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { exitCode, postJson, type RunningEntry, startEntry, tempSpoolFile } from '../helpers/entry.js';
import { eventually, sleep, tapLoad } from '../helpers/load.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';
import { streamClickIds } from '../helpers/redis.js';

const ADMIN = 'sigkill-admin-token-0123456789';
const FLUSH_MS = 50;

// Real outages take seconds, and the machine may be busy with the rest of the suite.
describe('a gateway stopped or killed while Redis is down', { timeout: 60_000 }, () => {
  let redis: OwnRedis;
  const running: RunningEntry[] = [];
  const start = (spoolFile: string) => {
    const entry = startEntry({
      REDIS_URL: redis.url,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'k1:sigkill-signing-secret-0123456789',
      HANGLINK_FLOOD_LIMIT: '100000',
      HANGLINK_LINK_CACHE_TTL_MS: '60000',
      HANGLINK_CLICK_FLUSH_MS: String(FLUSH_MS),
      HANGLINK_CLICK_SPOOL: spoolFile,
    });
    running.push(entry);
    return entry;
  };
  const kill = async (entry: RunningEntry) => {
    entry.child.kill('SIGKILL');
    await exitCode(entry.child);
  };
  const readiness = async (base: string) => (await (await fetch(`${base}/readyz`)).json()) as { clicks: { buffered: number; spooled: number } };

  /** Mints a link on a fresh gateway, taps it under load while Redis goes down, and answers what the taps left. */
  async function tapThroughAnOutage(spoolFile: string) {
    const entry = start(spoolFile);
    const base = `http://127.0.0.1:${await entry.port}`;
    const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'killed' });
    const link = await postJson(base, '/v1/links', merchant.apiKey as string, { url: 'https://item.taobao.com/item.htm?id=5', noteId: 'n-5', category: 'beauty' });
    const load = tapLoad(`${base}/${link.code}`, 8);
    await sleep(300);
    await redis.stop();
    await sleep(1000);
    return { entry, base, merchantId: merchant.id as string, code: link.code as string, load };
  }

  /** Brings Redis back, starts a new gateway on the same spool, and reads what reached Redis once it has replayed. */
  async function replay(spoolFile: string, merchantId: string) {
    await redis.start();
    const next = start(spoolFile);
    const base = `http://127.0.0.1:${await next.port}`;
    await eventually('the spool to be replayed', async () => {
      const { clicks } = await readiness(base);
      return clicks.spooled === 0 && clicks.buffered === 0;
    });
    const check = new Redis(redis.url);
    try {
      return await streamClickIds(check, `hl:clicks:${merchantId}`);
    } finally {
      check.disconnect();
    }
  }

  beforeAll(async () => {
    // Persistent, so what was written before the outage is still there after it.
    redis = await startOwnRedis({ persistent: true });
  });
  afterAll(async () => {
    for (const entry of running) entry.child.kill('SIGKILL');
    await redis?.destroy();
  });

  it('replays the spool at the next start: once taps stop for a flush interval, not one click is lost or doubled', async () => {
    const spoolFile = tempSpoolFile();
    const { entry, base, merchantId, load } = await tapThroughAnOutage(spoolFile);
    await load.stop();
    const served = load.statuses.get(302) ?? 0;
    expect(Object.fromEntries(load.statuses)).toEqual({ 302: served });
    // One flush tick later everything is on disk; the kill comes after that.
    await eventually('every click to reach the spool', async () => (await readiness(base)).clicks.buffered === 0);
    await kill(entry);

    const ids = await replay(spoolFile, merchantId);
    expect(ids).toHaveLength(served);
    expect(new Set(ids).size).toBe(served);
  });

  it('on SIGTERM while Redis is still away, leaves the clicks in the spool, exits 0, and the next start writes them', async () => {
    const spoolFile = tempSpoolFile();
    const { entry, merchantId, load } = await tapThroughAnOutage(spoolFile);
    await load.stop();
    const served = load.statuses.get(302) ?? 0;
    entry.child.kill('SIGTERM');
    expect(await exitCode(entry.child)).toBe(0);
    expect(entry.output()).toMatch(/Redis did not take \d+ clicks; they stay in/);

    const ids = await replay(spoolFile, merchantId);
    expect(ids).toHaveLength(served);
    expect(new Set(ids).size).toBe(served);
  });

  it('mid-load, loses at most the taps of the last flush interval, and doubles none', async () => {
    const spoolFile = tempSpoolFile();
    const { entry, merchantId, load } = await tapThroughAnOutage(spoolFile);
    const killedAt = Date.now();
    await kill(entry);
    await load.stop();
    const served = load.statuses.get(302) ?? 0;

    const ids = await replay(spoolFile, merchantId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeLessThanOrEqual(served);
    // At risk: taps answered since the last tick's move to disk: one interval, plus the append
    // itself, plus however late a CPU-starved test machine runs the tick.
    const atRisk = load.redirectedAt.filter((at) => at > killedAt - 10 * FLUSH_MS).length;
    expect(served - ids.length).toBeLessThanOrEqual(atRisk);
    expect(ids.length).toBeGreaterThan(0);
  });
});
