// The three servers (throwaway Redis, baseline, gateway) and the gateway's merchant API set-up.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Link } from '../src/domain/link.js';
import { listingMember } from '../src/store/listing.js';
import { redisKeys } from '../src/store/redis/keys.js';
import { createRedisStore } from '../src/store/redis/store.js';
import { type Child, freePort, sleep, startChild, stopChild, waitUntil } from './procs.js';
import { streamEntryFields } from '../src/store/redis/click-fields.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';
export const SIGNING_KEYS = 'bench:bench-signing-secret-0123456789';
const root = new URL('..', import.meta.url);

/** What a shopper's phone sends (the merchant API runs and quick checks; the tap rounds use taps.ts). */
export const TAP_HEADERS = {
  'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'accept-language': 'zh-CN,zh;q=0.9',
};

export interface Server {
  child: Child;
  url: string;
}

export async function startRedis(cpu: number | null): Promise<Server> {
  if (spawnSync('redis-server', ['--version']).error !== undefined) {
    throw new Error('redis-server is not installed: install it, or set BENCH_REDIS_URL');
  }
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'];
  const child = startChild('redis-server', 'redis-server', args, process.env, cpu);
  await waitUntil(child, 'Redis ready', () => child.tail.some((line) => line.includes('Ready to accept connections')), 10_000);
  return { child, url: `redis://127.0.0.1:${port}` };
}

export async function startBaseline(cpu: number | null): Promise<Server> {
  const port = await freePort();
  const child = startChild('baseline', process.execPath, [new URL('bench/baseline.js', root).pathname], { ...process.env, PORT: String(port) }, cpu);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(child, 'baseline answering', async () => (await fetch(`${url}/x`, { redirect: 'manual' })).status === 302, 10_000);
  return { child, url };
}

const spoolFolders: string[] = [];

/** A click spool in a fresh temp folder of its own, removed by removeEmptySpools. */
function gatewaySpool(): string {
  const folder = mkdtempSync(join(tmpdir(), 'hanglink-bench-spool-'));
  spoolFolders.push(folder);
  return join(folder, 'clicks.spool');
}

/**
 * Removes the bench gateways' spool folders once the gateways are gone. A spool that still holds
 * clicks stays, and is named: it is what a gateway could not write to Redis.
 */
export function removeEmptySpools(): void {
  for (const folder of spoolFolders.splice(0)) {
    const spool = join(folder, 'clicks.spool');
    if (existsSync(spool) && statSync(spool).size > 0) console.error(`bench: clicks left in a gateway's spool: ${spool}`);
    else rmSync(folder, { recursive: true, force: true });
  }
}

/** The gateway's environment as deployed, with its own click spool in a fresh temp directory. */
function gatewayEnv(redisUrl: string, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    REDIS_URL: redisUrl,
    HANGLINK_ADMIN_TOKEN: ADMIN_TOKEN,
    HANGLINK_SIGNING_KEYS: SIGNING_KEYS,
    HANGLINK_PUBLIC_URL: `http://127.0.0.1:${port}`,
    // The taps carry X-Forwarded-For (bench/taps.ts), as behind a load balancer: visitors differ by network.
    HANGLINK_TRUST_PROXY: 'true',
    // Its own spool, outside the repo: the bench's gateways must not share one.
    HANGLINK_CLICK_SPOOL: gatewaySpool(),
    // The merchant API rate limit (600 a minute by default) would turn the API runs into a 429 bench.
    HANGLINK_API_RATE_LIMIT: process.env.HANGLINK_API_RATE_LIMIT ?? '1000000',
  };
}

// npm start's command (package.json), which the Docker image runs too: node, its flags, the bundle.
const startArgs = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ').slice(1);
/** The node flags the gateway is deployed with. */
const deployedNodeFlags = startArgs.slice(0, -1);
export const gatewayEntry = new URL(startArgs.at(-1) ?? '', root).pathname;
/** The same entry module by module: a profile of it names each package and file (the bundle is one file). */
export const unbundledGatewayEntry = new URL('dist/runtime/node.js', root).pathname;

/** The gateway as deployed (npm start, the Docker image), node flags included; `nodeFlags` adds e.g. ['--cpu-prof']. */
export async function startGateway(redisUrl: string, cpu: number | null, nodeFlags: string[] = [], entry = gatewayEntry): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startChild('gateway', process.execPath, [...deployedNodeFlags, ...nodeFlags, entry], gatewayEnv(redisUrl, port), cpu);
  await waitUntil(child, 'gateway /healthz', async () => (await fetch(`${url}/healthz`)).ok, 15_000);
  return { child, url };
}

/**
 * Cold start: spawns a fresh gateway as deployed and taps `code` every 5 ms (a refused
 * connection fails at once) until the first 302. Returns ms from spawn to that answer, and the
 * gateway's exit code once stopped (it files that one tap's click on the way out).
 */
export async function coldStart(redisUrl: string, code: string, cpu: number | null): Promise<{ ms: number; attempts: number; exitCode: number | null }> {
  const port = await freePort();
  const env = gatewayEnv(redisUrl, port);
  const startedAt = performance.now();
  const child = startChild('cold-start gateway', process.execPath, [...deployedNodeFlags, gatewayEntry], env, cpu);
  let attempts = 0;
  try {
    for (;;) {
      if (child.exit !== null) throw new Error(`cold-start gateway exited before its first redirect:\n${child.tail.join('\n')}`);
      if (performance.now() - startedAt > 15_000) throw new Error('cold-start gateway: no 302 within 15 s');
      attempts++;
      const status = await fetch(`http://127.0.0.1:${port}/${code}`, { redirect: 'manual', headers: TAP_HEADERS }).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 302) return { ms: performance.now() - startedAt, attempts, exitCode: await stopChild(child, 25_000) };
      if (status !== 0 && status < 500) throw new Error(`cold-start gateway answered ${status} for /${code}`);
      await sleep(5);
    }
  } finally {
    if (child.exit === null) await stopChild(child, 25_000);
  }
}

/**
 * Seeds `count` links for `merchantId` straight into Redis, writing what the store's createLink
 * writes (src/store/redis/store.ts and its Lua script): the link's JSON under its link key, and its
 * listing member in the merchant's, note's and campaign's indexes, through the store's own key
 * layout (redisKeys) and member format (listingMember). In batches of 10,000: one MSET and one ZADD
 * per index, pipelined (the script, one call per link, is about 10 times slower). The links are
 * what the API would mint for linkItem-like input, 100 per note, codes `bl` + base-36 index.
 */
export async function seedLinks(redisUrl: string, merchantId: string, count: number, onProgress?: (done: number) => void): Promise<string[]> {
  return withRedis(redisUrl, async (redis) => {
    const keys = redisKeys();
    const codes: string[] = [];
    const batchSize = 10_000;
    const notesPerBatch = batchSize / 100;
    const stamp = new Date().toISOString();
    let pending: Promise<unknown> = Promise.resolve();
    for (let from = 0; from < count; from += batchSize) {
      const pairs: string[] = [];
      const members: string[] = [];
      const byNote = new Map<string, string[]>();
      for (let i = from; i < Math.min(count, from + batchSize); i++) {
        const code = `bl${i.toString(36).padStart(6, '0')}`;
        const link: Link = {
          code,
          merchantId,
          url: `https://item.taobao.com/item.htm?id=${i}`,
          noteId: `note-large-${Math.floor(i / 100)}`,
          campaignId: 'bench-large',
          category: 'beauty',
          externalId: null,
          expiresAt: null,
          appUrl: null,
          ios: null,
          android: null,
          desktop: null,
          maxClicks: null,
          status: 'active',
          createdAt: stamp,
          updatedAt: stamp,
        };
        const member = listingMember(link);
        codes.push(code);
        pairs.push(keys.link(code), JSON.stringify(link));
        members.push('0', member);
        const note = byNote.get(link.noteId) ?? [];
        if (note.length === 0) byNote.set(link.noteId, note);
        note.push('0', member);
      }
      if (byNote.size > notesPerBatch + 1) throw new Error('seeding: unexpected note spread');
      const pipeline = redis.pipeline().mset(...pairs).zadd(keys.merchantLinks(merchantId), ...members).zadd(keys.campaignLinks(merchantId, 'bench-large'), ...members);
      for (const [noteId, noteMembers] of byNote) pipeline.zadd(keys.noteLinks(merchantId, noteId), ...noteMembers);
      // One batch in flight while the next is built.
      await pending;
      pending = pipeline.exec().then((replies) => {
        const failed = replies?.find(([error]) => error !== null);
        if (failed !== undefined) throw failed[0];
      });
      onProgress?.(codes.length);
    }
    await pending;
    return codes;
  });
}

async function call<T>(url: string, token: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export function linkItem(n: number, campaignId = 'bench') {
  return { url: `https://item.taobao.com/item.htm?id=${n}`, noteId: `note-${n}`, category: 'beauty', campaignId };
}

export interface Merchant {
  id: string;
  apiKey: string;
  codes: string[];
}

/** Creates a merchant and mints `count` links for it, 1,000 per bulk call. */
export async function setUpMerchant(gatewayUrl: string, count: number): Promise<Merchant> {
  const { id, apiKey } = await call<{ id: string; apiKey: string }>(`${gatewayUrl}/v1/admin/merchants`, ADMIN_TOKEN, 'POST', { name: 'bench' });
  const codes: string[] = [];
  for (let from = 0; from < count; from += 1000) {
    const items = Array.from({ length: Math.min(1000, count - from) }, (_, i) => linkItem(from + i));
    const reply = await call<{ failed: number; results: { link?: { code: string } }[] }>(`${gatewayUrl}/v1/links/bulk`, apiKey, 'POST', { items });
    if (reply.failed > 0) throw new Error(`bulk mint: ${reply.failed} of ${items.length} failed`);
    for (const result of reply.results) if (result.link !== undefined) codes.push(result.link.code);
  }
  return { id, apiKey, codes };
}

export interface Backlog {
  buffered: number;
  spooled: number;
  dropped: number;
}

/** The gateway's clicks not yet in Redis (in memory and in its spool), and those it dropped. */
export async function backlogOf(gatewayUrl: string): Promise<Backlog> {
  const { clicks } = (await (await fetch(`${gatewayUrl}/readyz`)).json()) as { clicks: Backlog };
  return { buffered: clicks.buffered, spooled: clicks.spooled, dropped: clicks.dropped };
}

/** Waits until the gateway says no click waits in memory or spool; returns its last backlog report. */
export async function waitForFlush(gatewayUrl: string, timeoutMs: number): Promise<Backlog> {
  const deadline = Date.now() + timeoutMs;
  let clicks: Backlog = { buffered: -1, spooled: -1, dropped: 0 };
  while (Date.now() < deadline) {
    clicks = await backlogOf(gatewayUrl);
    if (clicks.buffered === 0 && clicks.spooled === 0) return clicks;
    await sleep(100);
  }
  return clicks;
}

/** Runs `use` on a connection of its own to the bench's Redis, closed after. */
async function withRedis<T>(redisUrl: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * Clicks in Redis for these links: entries in the merchant's click stream (one per tap written),
 * and the per-link counters' sum. `classified`: stream entries carry a `kind`, so the counters
 * count only billable taps (unique and repeat) and can be lower than the stream; `kinds` counts
 * the kinds among the last `sampled` entries.
 */
export async function countClicks(
  redisUrl: string,
  merchant: Merchant,
): Promise<{ stream: number; counters: number; classified: boolean; sampled: number; kinds: Record<string, number> }> {
  return withRedis(redisUrl, async (redis) => {
    // Through the store, which applies the counts still pending first.
    const store = createRedisStore(redis);
    let counters = 0;
    for (let i = 0; i < merchant.codes.length; i += 1000) {
      for (const count of (await store.clickCounts(merchant.codes.slice(i, i + 1000))).values()) counters += count;
    }
    const streamKey = redisKeys().clickStream(merchant.id);
    const last = await redis.xrevrange(streamKey, '+', '-', 'COUNT', 5000);
    const kinds: Record<string, number> = {};
    for (const [, fields] of last) {
      const kind = streamEntryFields(fields).get('kind');
      if (kind !== undefined) kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    return { stream: await redis.xlen(streamKey), counters, classified: Object.keys(kinds).length > 0, sampled: last.length, kinds };
  });
}

/** How many Lua script calls Redis has run since it started (INFO commandstats: EVALSHA, and EVAL when a script was not loaded yet). */
export async function scriptCalls(redisUrl: string): Promise<number> {
  const stats = await withRedis(redisUrl, (redis) => redis.info('commandstats'));
  let calls = 0;
  for (const [, count] of stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)) calls += Number(count);
  return calls;
}

/** Redis's `used_memory`, in bytes. */
export async function usedMemory(redisUrl: string): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await withRedis(redisUrl, (redis) => redis.info('memory')))?.[1]);
}

/**
 * What a click keeps in Redis (`MEMORY USAGE`, in bytes): the merchant's stream per entry, and the
 * mean of up to 100 markers and of up to 100 visitor states found by SCAN.
 */
export async function clickFootprint(redisUrl: string, merchant: Merchant): Promise<{ streamEntry: number; marker: number; visit: number }> {
  return withRedis(redisUrl, async (redis) => {
    const meanUsage = async (match: string) => {
      const sizes: number[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        for (const key of keys.slice(0, 100 - sizes.length)) sizes.push(Number(await redis.memory('USAGE', key)));
      } while (cursor !== '0' && sizes.length < 100);
      return sizes.length === 0 ? NaN : sizes.reduce((sum, size) => sum + size, 0) / sizes.length;
    };
    const keys = redisKeys();
    const streamKey = keys.clickStream(merchant.id);
    const streamBytes = Number(await redis.memory('USAGE', streamKey, 'SAMPLES', '0'));
    return { streamEntry: streamBytes / (await redis.xlen(streamKey)), marker: await meanUsage(keys.click('*')), visit: await meanUsage(keys.visit('*', '*')) };
  });
}
