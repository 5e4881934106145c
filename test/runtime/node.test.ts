import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { exitCode, postJson, startEntry } from '../helpers/entry.js';
import { sleep } from '../helpers/load.js';
import { storedLinkClicks, testRedis, type TestRedis } from '../helpers/redis.js';

const ADMIN = 'runtime-admin-token-0123456789';

/** Sends a request as written, and reads the status of its answer. */
function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}
const api = (port: number, path: string, key: string, body: unknown) => postJson(`http://127.0.0.1:${port}`, path, key, body);

describe('the Node entry (npm start)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(() => redis.cleanup());

  it('on SIGTERM finishes, writes every buffered click to Redis, and exits 0', async () => {
    const gateway = startEntry({
      REDIS_URL: inject('redisUrl'),
      HANGLINK_REDIS_PREFIX: redis.prefix,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'k1:runtime-signing-secret-0123456789',
      // Long enough that no click is written before shutdown: only the drain can write them.
      HANGLINK_CLICK_FLUSH_MS: '10000',
      // One visitor taps 40 times here; none of it should be judged a flood.
      HANGLINK_FLOOD_LIMIT: '100',
    });
    try {
      const port = await gateway.port;
      const merchant = await api(port, '/v1/admin/merchants', ADMIN, { name: 'runtime' });
      const link = await api(port, '/v1/links', merchant.apiKey as string, {
        url: 'https://item.taobao.com/item.htm?id=1',
        noteId: 'note-1',
        category: 'beauty',
      });
      const taps = await Promise.all(
        Array.from({ length: 40 }, () => fetch(`http://127.0.0.1:${port}/${link.code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } })),
      );
      expect(taps.every((res) => res.status === 302)).toBe(true);
      expect(await storedLinkClicks(redis.redis, redis.prefix, link.code as string)).toBeNull();

      gateway.child.kill('SIGTERM');
      expect(await exitCode(gateway.child)).toBe(0);
      expect(await storedLinkClicks(redis.redis, redis.prefix, link.code as string)).toBe('40');
      expect(await redis.redis.xlen(`${redis.prefix}clicks:${merchant.id}`)).toBe(40);
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });

  it('answers a cached tap on the fast path exactly as the app does, and records it the same', async () => {
    const gateway = startEntry({
      REDIS_URL: inject('redisUrl'),
      HANGLINK_REDIS_PREFIX: redis.prefix,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'k1:runtime-signing-secret-0123456789',
      HANGLINK_LINK_CACHE_TTL_MS: '60000',
    });
    try {
      const port = await gateway.port;
      const merchant = await api(port, '/v1/admin/merchants', ADMIN, { name: 'fast path' });
      const link = await api(port, '/v1/links', merchant.apiKey as string, {
        url: 'https://item.taobao.com/item.htm?id=7#top',
        noteId: 'note-7',
        category: 'beauty',
      });
      const tap = (ip: string) =>
        fetch(`http://127.0.0.1:${port}/${link.code}?utm=x`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT, 'x-forwarded-for': ip } });
      // The first tap loads the link through the app; the second finds it cached and takes the fast path.
      const [throughApp, fast] = [await tap('198.51.100.1'), await tap('198.51.100.2')];
      const shape = (res: Response) => ({
        status: res.status,
        location: (res.headers.get('location') ?? '').replace(/hl_cid=[^&]+/, 'hl_cid=*').replace(/hl_ts=\d+/, 'hl_ts=*').replace(/hl_sig=[^&#]+/, 'hl_sig=*'),
        cacheControl: res.headers.get('cache-control'),
        referrerPolicy: res.headers.get('referrer-policy'),
        // Framed the same way: an empty body of a stated length, not a chunked one.
        contentLength: res.headers.get('content-length'),
        transferEncoding: res.headers.get('transfer-encoding'),
      });
      expect(shape(fast)).toEqual(shape(throughApp));
      expect(shape(fast)).toMatchObject({ contentLength: '0', transferEncoding: null });
      expect(shape(fast).location).toBe(`https://item.taobao.com/item.htm?id=7&hl_cid=*&hl_lid=${link.code}&hl_nid=note-7&hl_ts=*&hl_kid=k1&hl_sig=*#top`);
      const head = await fetch(`http://127.0.0.1:${port}/${link.code}`, { method: 'HEAD', redirect: 'manual' });
      expect(head.status).toBe(302);

      // What the app refuses, the fast path does not serve, the link cached or not: a Host no server
      // would take, none at all, a target that is no path.
      for (const raw of [
        `GET /${link.code} HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`,
        `GET /${link.code} HTTP/1.0\r\n\r\n`,
        `GET *${link.code} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        `GET /${link.code} HTTP/1.1\r\nHost: go.example:99999\r\nConnection: close\r\n\r\n`,
      ]) {
        expect(await rawStatus(port, raw), raw).toBe(400);
      }

      gateway.child.kill('SIGTERM');
      expect(await exitCode(gateway.child)).toBe(0);
      expect(await redis.redis.xlen(`${redis.prefix}clicks:${merchant.id}`)).toBe(2);
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });

  it('sees a link paused through another gateway process at once, though it would cache the link for a minute', async () => {
    const env = {
      REDIS_URL: inject('redisUrl'),
      HANGLINK_REDIS_PREFIX: redis.prefix,
      HANGLINK_ADMIN_TOKEN: ADMIN,
      HANGLINK_SIGNING_KEYS: 'k1:runtime-signing-secret-0123456789',
      HANGLINK_LINK_CACHE_TTL_MS: '60000',
    };
    const [one, other] = [startEntry(env), startEntry(env)];
    try {
      const [onePort, otherPort] = await Promise.all([one.port, other.port]);
      const merchant = await api(onePort, '/v1/admin/merchants', ADMIN, { name: 'pushed changes' });
      const link = await api(onePort, '/v1/links', merchant.apiKey as string, { url: 'https://item.taobao.com/item.htm?id=1', noteId: 'note-1', category: 'beauty' });
      const tap = async () => (await fetch(`http://127.0.0.1:${otherPort}/${link.code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } })).status;
      for (const gateway of [one, other]) {
        for (let waited = 0; !gateway.output().includes('Redis pushes link changes to this process'); waited += 10) {
          expect(waited, `no "Redis pushes link changes" in:\n${gateway.output()}`).toBeLessThan(3000);
          await sleep(10);
        }
      }
      expect(await tap()).toBe(302);
      const paused = await fetch(`http://127.0.0.1:${onePort}/v1/links/${link.code}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'paused' }),
      });
      expect(paused.status).toBe(200);
      const pausedAt = Date.now();
      while ((await tap()) !== 410) {
        // The promise: every gateway process sees a change within a second.
        expect(Date.now() - pausedAt, 'the other gateway still redirects the paused link').toBeLessThan(1000);
        await sleep(10);
      }
    } finally {
      one.child.kill('SIGKILL');
      other.child.kill('SIGKILL');
    }
  });

  it('says Redis is not reachable only when it is not: past the 3 s start-up wait, serving either way', async () => {
    const secrets = { HANGLINK_ADMIN_TOKEN: ADMIN, HANGLINK_SIGNING_KEYS: 'k1:runtime-signing-secret-0123456789' };
    const up = startEntry({ REDIS_URL: inject('redisUrl'), HANGLINK_REDIS_PREFIX: redis.prefix, ...secrets });
    const down = startEntry({ REDIS_URL: 'redis://127.0.0.1:1', ...secrets });
    try {
      await Promise.all([up.port, down.port]);
      await sleep(3_500);
      expect(up.output()).not.toMatch(/not reachable/);
      expect(down.output()).toMatch(/Redis is not reachable yet; starting anyway/);
      expect((await fetch(`http://127.0.0.1:${await down.port}/healthz`)).status).toBe(200);
    } finally {
      up.child.kill('SIGKILL');
      down.child.kill('SIGKILL');
    }
  });

  it('runs without Redis on the in-process store and says so loudly, printing the secrets it generated', async () => {
    const gateway = startEntry({});
    try {
      await gateway.port;
      expect(gateway.output()).toMatch(/REDIS_URL is not set: hanglink is using its IN-PROCESS store/);
      expect(gateway.output()).toMatch(/LOST on restart/);
      expect(gateway.output()).toMatch(/HANGLINK_ADMIN_TOKEN=\S{16,}/);
      expect(gateway.output()).toMatch(/HANGLINK_SIGNING_KEYS=dev:\S{16,}/);
    } finally {
      gateway.child.kill('SIGTERM');
      expect(await exitCode(gateway.child)).toBe(0);
    }
  });

  it('on PORT=0 names the port the system gave in short URLs, unless HANGLINK_PUBLIC_URL says otherwise', async () => {
    const [own, set] = [startEntry({ HANGLINK_ADMIN_TOKEN: ADMIN }), startEntry({ HANGLINK_ADMIN_TOKEN: ADMIN, HANGLINK_PUBLIC_URL: 'https://go.example.com' })];
    try {
      const shortUrlFrom = async (port: number) => {
        const merchant = await api(port, '/v1/admin/merchants', ADMIN, { name: 'port zero' });
        const link = await api(port, '/v1/links', merchant.apiKey as string, { url: 'https://item.taobao.com/item.htm?id=1', noteId: 'note-1', category: 'beauty' });
        return link.shortUrl as string;
      };
      const port = await own.port;
      expect(await shortUrlFrom(port)).toMatch(new RegExp(`^http://localhost:${port}/[A-Za-z0-9_-]+$`));
      expect(own.output()).toContain(`short URLs: http://localhost:${port}/<code>`);
      expect(await shortUrlFrom(await set.port)).toMatch(/^https:\/\/go\.example\.com\/[A-Za-z0-9_-]+$/);
    } finally {
      own.child.kill('SIGKILL');
      set.child.kill('SIGKILL');
    }
  });

  it('refuses to start in production without an admin token and signing keys, naming both', async () => {
    const gateway = startEntry({ NODE_ENV: 'production' });
    expect(await exitCode(gateway.child)).toBe(1);
    expect(gateway.output()).toContain('HANGLINK_ADMIN_TOKEN is required in production');
    expect(gateway.output()).toContain('HANGLINK_SIGNING_KEYS is required in production');
  });
});
