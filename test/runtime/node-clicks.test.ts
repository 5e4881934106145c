// What batching must not cost (issue 5), through the real Node entry and its fast path: no click
// lost at shutdown with taps in flight, every change to a link seen by the very next tap however
// long links are cached, and each visitor's taps on a link kept in order.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { exitCode, postJson, type RunningEntry, startEntry } from '../helpers/entry.js';
import { storedLinkClicks, testRedis, type TestRedis } from '../helpers/redis.js';
import { streamEntryFields } from '../../src/store/redis/click-fields.js';

const ADMIN = 'runtime-admin-token-0123456789';

interface StreamClick {
  clickId: string;
  linkCode: string;
  ipPrefix: string;
  kind: string;
}

describe('clicks through the Node entry', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(() => redis.cleanup());

  const start = (env: Record<string, string>) =>
    startEntry({
      REDIS_URL: inject('redisUrl'),
      HANGLINK_REDIS_PREFIX: redis.prefix,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'k1:runtime-signing-secret-0123456789',
      HANGLINK_TRUST_PROXY: 'true',
      ...env,
    });

  async function merchantWithLinks(gateway: RunningEntry, count: number) {
    const base = `http://127.0.0.1:${await gateway.port}`;
    const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'clicks' });
    const codes: string[] = [];
    for (let i = 0; i < count; i++) {
      const link = await postJson(base, '/v1/links', merchant.apiKey as string, { url: `https://item.taobao.com/item.htm?id=${i}`, noteId: `note-${i}`, category: 'beauty' });
      codes.push(link.code as string);
    }
    return { base, merchantId: merchant.id as string, apiKey: merchant.apiKey as string, codes };
  }

  const tap = (base: string, code: string, ip = '10.0.0.1') =>
    fetch(`${base}/${code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT, 'x-forwarded-for': ip } });

  const clickIdOf = (res: Response) => new URL(res.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '';

  async function streamOf(merchantId: string): Promise<StreamClick[]> {
    const entries = await redis.redis.xrange(`${redis.prefix}clicks:${merchantId}`, '-', '+');
    return entries.map(([, fields]) => {
      const record = streamEntryFields(fields);
      const field = (name: string) => record.get(name) ?? '';
      return { clickId: field('clickId'), linkCode: field('linkCode'), ipPrefix: field('ipPrefix'), kind: field('kind') };
    });
  }

  it('on SIGTERM with taps still coming, writes every tap that got its redirect, once, over many small batches', async () => {
    // Batches of 7 and a flush every 20 ms: hundreds of batches, the last ones written by the drain.
    const gateway = start({ HANGLINK_CLICK_BATCH: '7', HANGLINK_CLICK_FLUSH_MS: '20', HANGLINK_FLOOD_LIMIT: '100000' });
    try {
      const { base, merchantId, codes } = await merchantWithLinks(gateway, 3);
      const redirected = new Map<string, string>();
      let sent = 0;
      let stopping = false;
      const visitor = async (n: number) => {
        for (let i = 0; ; i++) {
          const code = codes[(n + i) % codes.length] as string;
          sent++;
          let res: Response;
          try {
            res = await tap(base, code, `10.1.${n}.1`);
          } catch {
            if (stopping) return; // the gateway stopped taking taps
            throw new Error('a tap failed before shutdown');
          }
          expect(res.status).toBe(302);
          redirected.set(clickIdOf(res), code);
          if (res.headers.get('connection') === 'close' && stopping) return;
        }
      };
      const visitors = Array.from({ length: 8 }, (_, n) => visitor(n));
      while (redirected.size < 400) await new Promise((resolve) => setTimeout(resolve, 10));
      stopping = true;
      gateway.child.kill('SIGTERM');
      await Promise.all(visitors);
      expect(await exitCode(gateway.child)).toBe(0);

      const stream = await streamOf(merchantId);
      const ids = stream.map((c) => c.clickId);
      expect(new Set(ids).size).toBe(ids.length);
      // Every redirect a shopper got is a click; a tap cut off in flight may have been counted without its answer arriving.
      const written = new Map(stream.map((c) => [c.clickId, c.linkCode]));
      for (const [clickId, code] of redirected) expect(written.get(clickId)).toBe(code);
      expect(stream.length).toBeGreaterThanOrEqual(redirected.size);
      expect(stream.length).toBeLessThanOrEqual(sent);
      for (const code of codes) {
        const counted = Number(await storedLinkClicks(redis.redis, redis.prefix, code));
        expect(counted).toBe(stream.filter((c) => c.linkCode === code).length);
      }
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });

  it('shows a change to a link on the very next tap, with links cached for a minute', async () => {
    const gateway = start({ HANGLINK_LINK_CACHE_TTL_MS: '60000' });
    try {
      const { base, apiKey, codes } = await merchantWithLinks(gateway, 1);
      const code = codes[0] as string;
      const patch = (json: Record<string, unknown>) =>
        fetch(`${base}/v1/links/${code}`, { method: 'PATCH', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
      const destination = async () => {
        const res = await tap(base, code);
        return res.status === 302 ? new URL(res.headers.get('location') ?? '').host : res.status;
      };

      // Cached now: the taps after the first are answered from the cache.
      for (let i = 0; i < 3; i++) expect(await destination()).toBe('item.taobao.com');
      expect((await patch({ url: 'https://detail.tmall.com/item.htm?id=2' })).status).toBe(200);
      expect(await destination()).toBe('detail.tmall.com');
      expect((await patch({ status: 'paused' })).status).toBe(200);
      expect(await destination()).toBe(410);
      expect((await patch({ status: 'active' })).status).toBe(200);
      expect(await destination()).toBe('detail.tmall.com');
      const deleted = await fetch(`${base}/v1/links/${code}`, { method: 'DELETE', headers: { authorization: `Bearer ${apiKey}` } });
      expect(deleted.status).toBe(204);
      expect(await destination()).toBe(410);
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });

  it('keeps each visitor’s taps on a link in tap order in the stream, across batches written while taps go on', async () => {
    // Batches of 32 every 50 ms: each holds several taps of a visitor on a link, and there are many of them.
    const gateway = start({ HANGLINK_CLICK_BATCH: '32', HANGLINK_CLICK_FLUSH_MS: '50', HANGLINK_FLOOD_LIMIT: '100000' });
    try {
      const { base, merchantId, codes } = await merchantWithLinks(gateway, 2);
      // Five visitors at once, each tapping both links in turn, one tap after another.
      const tapsOf = await Promise.all(
        Array.from({ length: 5 }, async (_, n) => {
          const ids: string[] = [];
          for (let i = 0; i < 30; i++) ids.push(clickIdOf(await tap(base, codes[i % 2] as string, `10.2.${n}.1`)));
          return ids;
        }),
      );
      gateway.child.kill('SIGTERM');
      expect(await exitCode(gateway.child)).toBe(0);

      const stream = await streamOf(merchantId);
      expect(stream).toHaveLength(150);
      tapsOf.forEach((ids, n) => {
        for (const [l, code] of codes.entries()) {
          const mine = stream.filter((c) => c.ipPrefix === `10.2.${n}.0/24` && c.linkCode === code);
          expect(mine.map((c) => c.clickId)).toEqual(ids.filter((_, i) => i % 2 === l));
          // In order, the visitor's first tap on the link is its unique click and the rest repeats.
          expect(mine.map((c) => c.kind)).toEqual(['unique', ...Array<string>(14).fill('repeat')]);
        }
      });
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });
});
