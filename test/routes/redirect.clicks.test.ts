import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayBucket, hourBucket } from '../../src/domain/time-buckets.js';
import { SHOPPER_USER_AGENT, testGateway, type TestGateway } from '../helpers/app.js';
import { ALL_USER_AGENTS, BOTS, PEOPLE, type UserAgentCase, userAgentOf } from '../fixtures/user-agents.js';
import { streamEntryFields } from '../../src/store/redis/click-fields.js';

/**
 * "Honest clicks" over HTTP: every tap is redirected, and what it was (person, bot, repeat,
 * flood) is decided when the click is written, into the merchant's stream and counters.
 */

type StreamRecord = Record<string, string>;

// Every tap of this file happens at a fixed time of day, so moving the clock by minutes never
// crosses into another day's counters.
function middayToday(): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 10, 0, 0, 0);
}

async function streamOf(gw: TestGateway, merchantId: string): Promise<StreamRecord[]> {
  const entries = await gw.redis.redis.xrange(`${gw.redis.prefix}clicks:${merchantId}`, '-', '+');
  return entries.map(([, fields]) => Object.fromEntries(streamEntryFields(fields)) as StreamRecord);
}

async function counters(gw: TestGateway, merchantId: string, code: string, bucket: string): Promise<Record<string, number>> {
  const hash = await gw.redis.redis.hgetall(`${gw.redis.prefix}stats:${merchantId}:link:${code}:${bucket}`);
  return Object.fromEntries(Object.entries(hash).map(([name, value]) => [name, Number(value)]));
}

async function linkClicks(gw: TestGateway, apiKey: string, code: string): Promise<number> {
  const res = await gw.request(`/v1/links/${code}`, { key: apiKey });
  expect(res.status).toBe(200);
  return ((await res.json()) as { clicks: number }).clicks;
}

const clickIdOf = (res: Response): string => new URL(res.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '';

function tap(gw: TestGateway, code: string, userAgent: string, ip: string, extra: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return gw.request(`/${code}`, { method, headers: { 'user-agent': userAgent, 'x-test-ip': ip, ...extra } });
}

describe('one tap with every user agent of the corpus', () => {
  let gw: TestGateway;
  let merchant: { id: string; apiKey: string };
  let code: string;
  const recordOf = new Map<string, StreamRecord>();
  const ipOf = new Map<string, string>();

  beforeAll(async () => {
    gw = await testGateway();
    gw.clock.now = middayToday();
    merchant = await gw.merchant('Corpus');
    code = (await gw.mint(merchant.apiKey)).code;

    const caseOfClick = new Map<string, UserAgentCase>();
    for (const [i, c] of ALL_USER_AGENTS.entries()) {
      const ip = `198.18.${i}.7`;
      ipOf.set(c.name, ip);
      const res = await tap(gw, code, c.userAgent, ip);
      // Bots and link previews are redirected like anyone else: only the record tells them apart.
      expect(res.status, c.name).toBe(302);
      expect(res.headers.get('location'), c.name).toMatch(/^https:\/\/item\.taobao\.com\/item\.htm\?id=123&hl_cid=/);
      caseOfClick.set(clickIdOf(res), c);
    }
    await gw.flush();
    for (const record of await streamOf(gw, merchant.id)) {
      const c = caseOfClick.get(record.clickId ?? '');
      if (c !== undefined) recordOf.set(c.name, record);
    }
  });
  afterAll(() => gw.close());

  it('writes exactly one stream record per tap', async () => {
    expect(await streamOf(gw, merchant.id)).toHaveLength(ALL_USER_AGENTS.length);
    expect(recordOf.size).toBe(ALL_USER_AGENTS.length);
  });

  function expectParsed(c: UserAgentCase, record: StreamRecord | undefined): void {
    expect(record, `no record for ${c.name}`).toBeDefined();
    const { expected } = c;
    expect(record).toMatchObject({
      kind: expected.bot ? 'bot' : 'unique',
      bot: expected.bot ? '1' : '0',
      deviceType: expected.deviceType,
      platform: expected.platform,
      os: expected.os,
      inApp: expected.inApp,
      userAgent: c.userAgent,
      route: 'web',
      linkCode: code,
      merchantId: merchant.id,
      ipPrefix: ipOf.get(c.name)?.replace(/\.\d+$/, '.0/24'),
      at: String(gw.clock.now),
    });
    if (expected.osVersion !== undefined) expect(record?.osVersion).toBe(expected.osVersion);
    if (expected.browser !== undefined) expect(record?.browser).toBe(expected.browser);
  }

  it.each(PEOPLE.map((c) => [c.name, c] as const))('%s: a unique click with its device, OS, browser and app', (_name, c) => {
    expectParsed(c, recordOf.get(c.name));
  });

  it.each(BOTS.map((c) => [c.name, c] as const))('%s: redirected, recorded with the bot flag', (_name, c) => {
    expectParsed(c, recordOf.get(c.name));
  });

  it("counts people in the link's clicks and bots only as bot clicks", async () => {
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(PEOPLE.length);
    for (const bucket of [dayBucket(gw.clock.now), hourBucket(gw.clock.now)]) {
      expect(await counters(gw, merchant.id, code, bucket)).toEqual({
        clicks: PEOPLE.length,
        uniqueClicks: PEOPLE.length,
        botClicks: BOTS.length,
      });
    }
  });
});

describe('repeat taps', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await testGateway();
    gw.clock.now = middayToday();
  });
  afterAll(() => gw.close());

  it('counts the same visitor again within the window as a repeat: a click, not a unique click', async () => {
    const merchant = await gw.merchant('Repeats');
    const { code } = await gw.mint(merchant.apiKey);
    const start = gw.clock.now;

    expect((await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10')).status).toBe(302);
    gw.clock.now = start + 5 * 60_000;
    expect((await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10')).status).toBe(302);
    await gw.flush();

    expect((await streamOf(gw, merchant.id)).map((r) => r.kind)).toEqual(['unique', 'repeat']);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(2);
    expect(await counters(gw, merchant.id, code, dayBucket(start))).toEqual({ clicks: 2, uniqueClicks: 1 });

    // Past the 30-minute window (counted from the first tap) the visitor is new again.
    gw.clock.now = start + 30 * 60_000 + 1;
    expect((await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10')).status).toBe(302);
    await gw.flush();

    expect((await streamOf(gw, merchant.id)).map((r) => r.kind)).toEqual(['unique', 'repeat', 'unique']);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(3);
    expect(await counters(gw, merchant.id, code, dayBucket(start))).toEqual({ clicks: 3, uniqueClicks: 2 });
  });

  it('tells visitors apart by network and user agent: another network or browser is unique, the same /24 is not', async () => {
    const merchant = await gw.merchant('Visitors');
    const { code } = await gw.mint(merchant.apiKey);
    const android = userAgentOf('Android Chrome');

    await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10');
    await tap(gw, code, SHOPPER_USER_AGENT, '198.51.100.20'); // another network
    await tap(gw, code, android, '203.0.113.10'); // another browser on the first network
    await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.99'); // the first visitor's /24
    await gw.flush();

    expect((await streamOf(gw, merchant.id)).map((r) => r.kind)).toEqual(['unique', 'unique', 'unique', 'repeat']);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(4);
    expect(await counters(gw, merchant.id, code, dayBucket(gw.clock.now))).toEqual({ clicks: 4, uniqueClicks: 3 });
  });

  it('keeps repeats per link: the same visitor on another link is unique there', async () => {
    const merchant = await gw.merchant('Per link');
    const first = await gw.mint(merchant.apiKey);
    const second = await gw.mint(merchant.apiKey);

    await tap(gw, first.code, SHOPPER_USER_AGENT, '203.0.113.10');
    await tap(gw, second.code, SHOPPER_USER_AGENT, '203.0.113.10');
    await gw.flush();

    expect((await streamOf(gw, merchant.id)).map((r) => [r.linkCode, r.kind])).toEqual([
      [first.code, 'unique'],
      [second.code, 'unique'],
    ]);
  });
});

describe('floods', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await testGateway({ clickPolicy: { repeatWindowMs: 30 * 60_000, floodLimitPerMinute: 3 } });
    gw.clock.now = middayToday();
  });
  afterAll(() => gw.close());

  it('redirects every tap past the limit but flags it suspect and leaves it out of billable counts', async () => {
    const merchant = await gw.merchant('Flood');
    const { code } = await gw.mint(merchant.apiKey);
    const start = gw.clock.now;

    for (let i = 0; i < 5; i++) {
      gw.clock.now = start + i * 10_000; // five taps within one minute
      const res = await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10');
      expect(res.status).toBe(302);
      expect(clickIdOf(res)).not.toBe('');
    }
    await gw.flush();

    const records = await streamOf(gw, merchant.id);
    expect(records.map((r) => r.kind)).toEqual(['unique', 'repeat', 'repeat', 'suspect', 'suspect']);
    expect(records.every((r) => r.bot === '0')).toBe(true);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(3);
    expect(await counters(gw, merchant.id, code, dayBucket(start))).toEqual({ clicks: 3, uniqueClicks: 1, suspectClicks: 2 });

    // Another visitor in the same minute is not held to the first one's count.
    await tap(gw, code, SHOPPER_USER_AGENT, '198.51.100.20');
    // A new minute starts a fresh count: the visitor is back to a (billable) repeat.
    gw.clock.now = start + 60_000;
    expect((await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10')).status).toBe(302);
    await gw.flush();

    expect((await streamOf(gw, merchant.id)).slice(5).map((r) => r.kind)).toEqual(['unique', 'repeat']);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(5);
    expect(await counters(gw, merchant.id, code, dayBucket(start))).toEqual({ clicks: 5, uniqueClicks: 2, suspectClicks: 2 });
  });

  it('does not hold bots to the flood limit: they stay bots, never suspect', async () => {
    const merchant = await gw.merchant('Bot flood');
    const { code } = await gw.mint(merchant.apiKey);
    const slack = userAgentOf('Slackbot-LinkExpanding');

    for (let i = 0; i < 5; i++) expect((await tap(gw, code, slack, '203.0.113.10')).status).toBe(302);
    await gw.flush();

    expect((await streamOf(gw, merchant.id)).map((r) => r.kind)).toEqual(['bot', 'bot', 'bot', 'bot', 'bot']);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(0);
    expect(await counters(gw, merchant.id, code, dayBucket(gw.clock.now))).toEqual({ botClicks: 5 });
  });
});

describe('what is not a tap', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await testGateway();
    gw.clock.now = middayToday();
  });
  afterAll(() => gw.close());

  it.each([
    ['HEAD', 'HEAD', {}],
    ['Sec-Purpose: prefetch', 'GET', { 'sec-purpose': 'prefetch' }],
    ['Sec-Purpose: prefetch;prerender', 'GET', { 'sec-purpose': 'prefetch;prerender' }],
    ['Purpose: prefetch', 'GET', { purpose: 'prefetch' }],
  ] as const)('%s is answered with the redirect but records nothing', async (_name, method, headers) => {
    const merchant = await gw.merchant('Prefetch');
    const { code } = await gw.mint(merchant.apiKey);

    const res = await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10', headers, method);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^https:\/\/item\.taobao\.com\/item\.htm\?id=123&hl_cid=/);
    await gw.flush();

    expect(await streamOf(gw, merchant.id)).toEqual([]);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(0);
    expect(await counters(gw, merchant.id, code, dayBucket(gw.clock.now))).toEqual({});

    // The real tap that follows is the visitor's first, so unique.
    await tap(gw, code, SHOPPER_USER_AGENT, '203.0.113.10');
    await gw.flush();
    expect((await streamOf(gw, merchant.id)).map((r) => r.kind)).toEqual(['unique']);
  });
});

describe('user agents that are not user agents', () => {
  let gw: TestGateway;
  let merchant: { id: string; apiKey: string };
  let code: string;
  beforeAll(async () => {
    gw = await testGateway();
    gw.clock.now = middayToday();
    merchant = await gw.merchant('Odd user agents');
    code = (await gw.mint(merchant.apiKey)).code;
  });
  afterAll(() => gw.close());

  const PRINTABLE = /^[\x20-\x7e]*$/;
  // Headers take any latin-1 byte but NUL, CR and LF; these are control and high bytes around real text.
  const latin1 = (length: number) => Array.from({ length }, (_, i) => String.fromCharCode(0x80 + (i % 0x80))).join('');
  const GARBAGE = `\u0001\u0002\u001b[31m\u007f${latin1(40)}Mozilla\u00ff\u00e9\u0008/5.0\u00a0\u00fe`;
  const BINARY_10KB = `\u0001${latin1(10 * 1024)}\u0002`;
  const HUGE = `${userAgentOf('iPhone Safari')} ${'A'.repeat(10 * 1024)}`;

  async function recordFor(res: Response): Promise<StreamRecord> {
    expect(res.status).toBe(302);
    await gw.flush();
    const record = (await streamOf(gw, merchant.id)).find((r) => r.clickId === clickIdOf(res));
    expect(record).toBeDefined();
    return record as StreamRecord;
  }

  it('redirects a tap without a user agent and counts it as a bot', async () => {
    const record = await recordFor(await tap(gw, code, '', '192.0.2.1'));
    expect(record).toMatchObject({ kind: 'bot', bot: '1', userAgent: '', deviceType: 'unknown', platform: 'other', os: '', browser: '', inApp: '' });
  });

  it('redirects a 10 KB user agent, keeps its first 512 characters and still reads the device', async () => {
    const record = await recordFor(await tap(gw, code, HUGE, '192.0.2.2'));
    expect(record.userAgent).toBe(HUGE.slice(0, 512));
    expect(record).toMatchObject({ kind: 'unique', bot: '0', deviceType: 'mobile', platform: 'ios', os: 'iOS', browser: 'Mobile Safari' });
  });

  it.each([
    ['control and high bytes', GARBAGE],
    ['10 KB of binary', BINARY_10KB],
  ])('redirects %s and records it printable and bounded', async (_name, userAgent) => {
    const res = await tap(gw, code, userAgent, '192.0.2.3');
    const record = await recordFor(res);
    expect(record.userAgent).toMatch(PRINTABLE);
    expect((record.userAgent ?? '').length).toBeLessThanOrEqual(512);
    expect(record.userAgent).toBe(userAgent.slice(0, 512).replace(/[^\x20-\x7e]/g, '?'));
    for (const name of ['deviceType', 'platform', 'os', 'osVersion', 'browser', 'browserVersion', 'inApp'] as const) {
      expect(record[name]).toMatch(/^[\x20-\x7e]{0,64}$/);
    }
    // No browser sends this: it is redirected and recorded, but not billed.
    expect(record).toMatchObject({ kind: 'bot', bot: '1' });
  });

  it('counts only the 10 KB browser user agent as a click, the rest as bot clicks', async () => {
    await gw.flush();
    expect((await streamOf(gw, merchant.id)).map((r) => r.kind)).toEqual(['bot', 'unique', 'bot', 'bot']);
    expect(await linkClicks(gw, merchant.apiKey, code)).toBe(1);
    expect(await counters(gw, merchant.id, code, dayBucket(gw.clock.now))).toEqual({ clicks: 1, uniqueClicks: 1, botClicks: 3 });
  });
});
