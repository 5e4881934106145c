// The Redis click write sends what a batch's clicks share (merchant and hour, link, user agent)
// once, and the script rebuilds every click from the parts. These tests hold a mixed batch to the
// in-process store's answers, and check that markers left by the earlier layout still work.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClickPolicy, StoredClick } from '../../src/domain/click.js';
import { createMemoryStore } from '../../src/store/memory/store.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import type { GroupType, Store } from '../../src/store/types.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const BASE_MS = Date.parse('2025-03-01T22:58:00.000Z');
const MINUTE = 60_000;
const POLICY: ClickPolicy = { repeatWindowMs: 10 * MINUTE, floodLimitPerMinute: 3 };
const GROUP_TYPES: readonly GroupType[] = ['merchant', 'campaign', 'note', 'link'];
const BUCKETS = ['h2025030122', 'h2025030123', 'h2025030200', 'h2025030201', 'd20250301', 'd20250302'];

const AGENTS = [
  { userAgent: 'Mozilla/5.0 (iPhone)', bot: false, deviceType: 'mobile', platform: 'ios', os: 'iOS', osVersion: '17.4', browser: 'Mobile Safari', browserVersion: '17.4', inApp: '' },
  { userAgent: 'Mozilla/5.0 (Linux; Android 14; wv)', bot: false, deviceType: 'mobile', platform: 'android', os: 'Android', osVersion: '14', browser: 'Chrome WebView', browserVersion: '120', inApp: 'WebView' },
  { userAgent: 'Googlebot/2.1', bot: true, deviceType: 'unknown', platform: 'other', os: '', osVersion: '', browser: '', browserVersion: '', inApp: '' },
  // The same header as the first with another verdict: the batch must not merge them.
  { userAgent: 'Mozilla/5.0 (iPhone)', bot: true, deviceType: 'mobile', platform: 'ios', os: 'iOS', osVersion: '17.4', browser: 'Mobile Safari', browserVersion: '17.4', inApp: '' },
] as const;

type LinkFields = Pick<StoredClick, 'merchantId' | 'linkCode' | 'noteId' | 'campaignId'>;

const LINKS: readonly LinkFields[] = [
  { merchantId: 'm1', linkCode: 'a1', noteId: 'note-1', campaignId: 'spring' },
  { merchantId: 'm1', linkCode: 'a2', noteId: 'note-1', campaignId: null },
  { merchantId: 'm1', linkCode: 'a3', noteId: 'note-2', campaignId: 'spring' },
  { merchantId: 'm2', linkCode: 'b1', noteId: 'note-1', campaignId: 'spring' },
  { merchantId: 'm2', linkCode: 'b2', noteId: 'note-9', campaignId: 'autumn' },
];

/**
 * A deterministic mix: links, agents, visitors and times (across hours and a day) all vary, and
 * every 40th tap starts a burst of six in six seconds by one visitor on one link, past the flood limit.
 */
function mixedClicks(count: number, seed: number): StoredClick[] {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.floor(state / 65_536) % n;
  };
  let burst = { link: LINKS[0]!, visitor: 0 };
  return Array.from({ length: count }, (_, i) => {
    const inBurst = i % 40 < 6;
    if (i % 40 === 0) burst = { link: LINKS[next(LINKS.length)]!, visitor: next(3) };
    const link = inBurst ? burst.link : LINKS[next(LINKS.length)]!;
    const agent = inBurst ? AGENTS[0] : AGENTS[next(AGENTS.length)]!;
    return {
      clickId: `click-${seed}-${i}`,
      ...link,
      at: inBurst ? BASE_MS + (i - (i % 40)) * 10_000 + (i % 40) * 1000 : BASE_MS + i * 10_000 + next(9_000),
      referrer: next(2) === 0 ? '' : 'https://notes.example/n/1',
      acceptLanguage: next(2) === 0 ? 'zh-CN,zh;q=0.9' : '',
      ipPrefix: `203.0.${next(3)}.0/24`,
      route: next(4) === 0 ? 'app' : 'web',
      visitorId: `visitor-${inBurst ? burst.visitor : next(3)}`,
      ...agent,
    };
  });
}

async function everything(store: Store, readClicks: (merchantId: string) => Promise<unknown[]>, clicks: readonly StoredClick[]) {
  const merchants = ['m1', 'm2'];
  return {
    clicks: await Promise.all(merchants.map(readClicks)),
    counts: await store.clickCounts(LINKS.map((l) => l.linkCode)),
    counters: await Promise.all(merchants.flatMap((m) => GROUP_TYPES.map((type) => store.readCounters(m, type, BUCKETS)))),
    origins: await Promise.all(clicks.map((c) => store.clickOrigin(c.clickId))),
  };
}

describe('redis click batches', () => {
  let server: TestRedis;
  beforeEach(async () => {
    server = await testRedis();
  });
  afterEach(async () => {
    await server.cleanup();
  });

  const redisStore = () => {
    const keys = redisKeys(server.prefix);
    const store = createRedisStore(server.redis, { prefix: server.prefix, clickPolicy: POLICY });
    const readClicks = async (merchantId: string) => (await store.readClicks(merchantId, 0, Number.MAX_SAFE_INTEGER, 10_000, null)).clicks;
    return { store, keys, readClicks };
  };

  it('writes a batch mixing merchants, links, hours, days and user agents exactly as the in-process store does', async () => {
    const clicks = mixedClicks(450, 7);
    const memory = createMemoryStore({ clickPolicy: POLICY });
    const redis = redisStore();
    // Two writes: one past a script's share of clicks, one after, so state carries across both.
    for (const store of [memory, redis.store]) {
      await store.writeClicks(clicks.slice(0, 300));
      await store.writeClicks(clicks.slice(300));
    }
    const expected = await everything(memory, async (m) => memory.recordedClicks(m), clicks);
    expect(expected.clicks.flat().map((c) => (c as { kind: string }).kind)).toEqual(expect.arrayContaining(['unique', 'repeat', 'bot', 'suspect']));
    expect(await everything(redis.store, redis.readClicks, clicks)).toEqual(expected);
  });

  it('writes each click with its link as it was when tapped, when the link changes note, campaign or merchant between batches', async () => {
    const clicks = mixedClicks(120, 13);
    const moved = (from: number, link: Partial<LinkFields>) => clicks.slice(from, from + 30).map((c) => (c.linkCode === 'a1' ? { ...c, ...link } : c));
    // Each batch changes one thing about link a1 from the batch before.
    const batches = [
      clicks.slice(0, 30),
      moved(30, { noteId: 'note-5' }),
      moved(60, { noteId: 'note-5', campaignId: 'autumn' }),
      moved(90, { noteId: 'note-5', campaignId: 'autumn', merchantId: 'm2' }),
    ];
    expect(batches.every((batch) => batch.some((c) => c.linkCode === 'a1'))).toBe(true);
    const memory = createMemoryStore({ clickPolicy: POLICY });
    const redis = redisStore();
    for (const store of [memory, redis.store]) for (const batch of batches) await store.writeClicks(batch);
    const written = batches.flat();
    const expected = await everything(memory, async (m) => memory.recordedClicks(m), written);
    expect(await everything(redis.store, redis.readClicks, written)).toEqual(expected);
    expect(expected.origins.filter((o) => o?.linkCode === 'a1').map((o) => `${o?.merchantId} ${o?.noteId} ${o?.campaignId}`)).toEqual(
      expect.arrayContaining(['m1 note-1 spring', 'm1 note-5 spring', 'm1 note-5 autumn', 'm2 note-5 autumn']),
    );
  });

  it('changes nothing when a mixed batch is written again, whole or in another split', async () => {
    const clicks = mixedClicks(120, 11);
    const redis = redisStore();
    await redis.store.writeClicks(clicks);
    const before = await everything(redis.store, redis.readClicks, clicks);
    await redis.store.writeClicks(clicks);
    await redis.store.writeClicks([...clicks.slice(60), ...clicks.slice(0, 60)]);
    expect(await everything(redis.store, redis.readClicks, clicks)).toEqual(before);
  });

  it('writes a click whose fields hold the stream separator with "?" in its place, every other field and click intact', async () => {
    const redis = redisStore();
    const [plain, odd, after] = mixedClicks(3, 5) as [StoredClick, StoredClick, StoredClick];
    const strange = { ...odd, referrer: 'https://a.example/\x1fb', acceptLanguage: '\x1e', userAgent: 'Agent\x1e/\x1f1' };
    await redis.store.writeClicks([plain, strange, after]);
    const written = (await Promise.all(['m1', 'm2'].map(redis.readClicks))).flat();
    expect(written.find((c) => c.clickId === strange.clickId)).toMatchObject({ ...strange, referrer: 'https://a.example/?b', userAgent: 'Agent\x1e/?1' });
    for (const click of [plain, after]) expect(written.find((c) => c.clickId === click.clickId)).toMatchObject(click);
  });

  it('writes a click whose fields are not ASCII as they are, with the clicks around it', async () => {
    const redis = redisStore();
    const [plain, odd, after] = mixedClicks(3, 7) as [StoredClick, StoredClick, StoredClick];
    // The gateway cleans headers to printable ASCII; a store must still keep whatever it is given.
    const unusual = { ...odd, referrer: 'https://笔记.example/n/1?q=口红', acceptLanguage: 'zh-CN,中文', userAgent: 'Agent/1 (é) 🛍️' };
    await redis.store.writeClicks([plain, unusual, after]);
    const written = (await Promise.all(['m1', 'm2'].map(redis.readClicks))).flat();
    for (const click of [plain, unusual, after]) expect(written.find((c) => c.clickId === click.clickId)).toMatchObject(click);
  });

  it('lays each click in its stream as four fields, its kind and three named by the values they hold, in order', async () => {
    const redis = redisStore();
    const [click] = mixedClicks(1, 13) as [StoredClick];
    await redis.store.writeClicks([click]);
    const [[, fields]] = (await server.redis.xrange(redis.keys.clickStream(click.merchantId), '-', '+')) as [[string, string[]]];
    const names = [
      'kind',
      'merchantId,linkCode,noteId,campaignId',
      'userAgent,bot,deviceType,platform,os,osVersion,browser,browserVersion,inApp',
      'clickId,at,visitorId,route,referrer,acceptLanguage,ipPrefix',
    ];
    expect(fields.filter((_, at) => at % 2 === 0)).toEqual(names);
    const { bot, campaignId, at, ...rest } = click;
    const expected: Record<string, string> = { ...rest, kind: 'unique', bot: bot ? '1' : '0', campaignId: campaignId ?? '', at: String(at) };
    names.forEach((name, part) => expect(fields[2 * part + 1]?.split('\x1f')).toEqual(name.split(',').map((field) => expected[field])));
  });

  it('reads stream entries written as one field by the earlier layout', async () => {
    const redis = redisStore();
    const [click] = mixedClicks(1, 23) as [StoredClick];
    const { bot, campaignId, at, ...rest } = click;
    const legacy: Record<string, string> = { ...rest, kind: 'suspect', bot: bot ? '1' : '0', campaignId: campaignId ?? '', at: String(at) };
    const names = 'kind,merchantId,linkCode,noteId,campaignId,userAgent,bot,deviceType,platform,os,osVersion,browser,browserVersion,inApp,clickId,at,visitorId,route,referrer,acceptLanguage,ipPrefix';
    const value = names
      .split(',')
      .map((name) => legacy[name])
      .join('\x1f');
    await server.redis.xadd(redis.keys.clickStream(click.merchantId), '*', names, value);
    expect(await redis.readClicks(click.merchantId)).toEqual([{ ...click, kind: 'suspect' }]);
  });

  it('reads stream entries written a field per value by the earlier layout', async () => {
    const redis = redisStore();
    const [click] = mixedClicks(1, 17) as [StoredClick];
    const { bot, campaignId, at, ...rest } = click;
    const legacy = { ...rest, kind: 'repeat', bot: bot ? '1' : '0', campaignId: campaignId ?? '', at: String(at) };
    await server.redis.xadd(redis.keys.clickStream(click.merchantId), '*', ...Object.entries(legacy).flat());
    expect(await redis.readClicks(click.merchantId)).toEqual([{ ...click, kind: 'repeat' }]);
  });

  it('reads click markers left as JSON by the earlier layout, and does not write those clicks again', async () => {
    const redis = redisStore();
    const clicks = mixedClicks(2, 19);
    for (const click of clicks) {
      const { merchantId, linkCode, noteId, campaignId, at } = click;
      await server.redis.set(redis.keys.click(click.clickId), JSON.stringify({ merchantId, linkCode, noteId, campaignId, at }));
    }
    expect(clicks.map((c) => c.campaignId)).toContain(null);
    for (const click of clicks) {
      const { merchantId, linkCode, noteId, campaignId, at } = click;
      expect(await redis.store.clickOrigin(click.clickId)).toEqual({ merchantId, linkCode, noteId, campaignId, at });
    }
    await redis.store.writeClicks(clicks);
    expect((await Promise.all(['m1', 'm2'].map(redis.readClicks))).flat()).toEqual([]);
  });

  it('reads a click marker left as a hash by the earlier layout, and does not write that click again', async () => {
    const redis = redisStore();
    const [click] = mixedClicks(1, 3) as [StoredClick];
    await server.redis.hset(redis.keys.click(click.clickId), {
      merchantId: click.merchantId,
      linkCode: click.linkCode,
      noteId: click.noteId,
      campaignId: click.campaignId ?? '',
      at: String(click.at),
      visitorId: click.visitorId,
    });
    expect(await redis.store.clickOrigin(click.clickId)).toEqual({
      merchantId: click.merchantId,
      linkCode: click.linkCode,
      noteId: click.noteId,
      campaignId: click.campaignId,
      at: click.at,
    });
    await redis.store.writeClicks([click]);
    expect(await redis.readClicks(click.merchantId)).toEqual([]);
    expect(await redis.store.clickCounts([click.linkCode])).toEqual(new Map([[click.linkCode, 0]]));
  });
});
