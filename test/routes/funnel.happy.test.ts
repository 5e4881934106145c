import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOPPER_USER_AGENT, testGateway, type TestGateway } from '../helpers/app.js';

/**
 * "Close the loop" end to end over HTTP: impressions, clicks, orders, refunds and spend, read back
 * through /v1/stats, /v1/attribution/verify and /v1/clicks. Every expected figure is computed here
 * from what the test itself did, never copied from an answer.
 */

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
const DAY_MS = 86_400_000;
const GIF_HEADER = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61]; // "GIF89a"

type Key = { id: string; apiKey: string };
type Figures = {
  impressions: number;
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  suspectClicks: number;
  ctr: number | null;
  orders: number;
  gmv: number;
  newCustomers: number;
  conversionRate: number | null;
  spend: number;
  costPerNewCustomer: number | null;
  roi: number | null;
};
type Report = { currency: string; groupBy: string; interval: string; from: string; to: string; groups: { id: string | null; intervals: ({ start: string } & Figures)[] }[] };

interface Raw {
  impressions: number;
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  suspectClicks: number;
  orders: number;
  gmvMinor: number;
  newCustomers: number;
  spendMinor: number;
}
const zero = (): Raw => ({ impressions: 0, clicks: 0, uniqueClicks: 0, botClicks: 0, suspectClicks: 0, orders: 0, gmvMinor: 0, newCustomers: 0, spendMinor: 0 });

// The rules: ratios only over a positive denominator, kept to 6 significant digits; a cost is money, to the cent.
const ratio = (n: number, d: number) => (d > 0 ? Number((n / d).toPrecision(6)) : null);
function figures(r: Raw): Figures {
  return {
    impressions: r.impressions,
    clicks: r.clicks,
    uniqueClicks: r.uniqueClicks,
    botClicks: r.botClicks,
    suspectClicks: r.suspectClicks,
    ctr: ratio(r.clicks, r.impressions),
    orders: r.orders,
    gmv: r.gmvMinor / 100,
    newCustomers: r.newCustomers,
    conversionRate: ratio(r.orders, r.uniqueClicks),
    spend: r.spendMinor / 100,
    costPerNewCustomer: r.newCustomers > 0 ? Math.round(r.spendMinor / r.newCustomers) / 100 : null,
    roi: ratio(r.gmvMinor, r.spendMinor),
  };
}

const clickIdOf = (res: Response): string => new URL(res.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '';
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayBucketOf = (ms: number) => `d${isoDate(ms).replaceAll('-', '')}`;

async function stats(gw: TestGateway, apiKey: string, query: string): Promise<Report> {
  const res = await gw.request(`/v1/stats?${query}`, { key: apiKey });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Report;
}

function tap(gw: TestGateway, code: string, ip: string, userAgent = SHOPPER_USER_AGENT): Promise<Response> {
  return gw.request(`/${code}`, { headers: { 'x-test-ip': ip, 'user-agent': userAgent } });
}

function impression(gw: TestGateway, code: string, userAgent = SHOPPER_USER_AGENT, accept = 'image/avif,image/webp,*/*'): Promise<Response> {
  return gw.request(`/i/${code}`, { headers: { 'user-agent': userAgent, accept } });
}

async function order(gw: TestGateway, apiKey: string, body: Record<string, unknown>): Promise<Response> {
  return gw.request('/v1/conversions', { method: 'POST', key: apiKey, json: { currency: 'CNY', newCustomer: false, ...body } });
}

describe('the funnel of a scripted scenario', () => {
  let gw: TestGateway;
  let m: Key;
  const todayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const day1 = todayStart - DAY_MS + 10 * 3_600_000;
  const day2 = todayStart + 10 * 3_600_000;
  const range = `from=${isoDate(todayStart - DAY_MS)}&to=${isoDate(todayStart + DAY_MS)}`;

  // link name -> campaign, note
  const LINKS = {
    L1: { campaignId: 'spring', noteId: 'n1' },
    L2: { campaignId: 'spring', noteId: 'n2' },
    L3: { campaignId: 'summer', noteId: 'n2' },
    L4: { campaignId: 'summer', noteId: 'n3' },
    L5: { campaignId: null, noteId: 'n3' },
  } as const;
  type LinkName = keyof typeof LINKS;
  const code: Record<string, string> = {};
  /** Per link name and day bucket, the raw counts the test expects. */
  const expected = new Map<string, Raw>();
  const raw = (link: LinkName, at: number) => {
    const key = `${link}|${dayBucketOf(at)}`;
    const r = expected.get(key) ?? zero();
    expected.set(key, r);
    return r;
  };
  const spend: { campaign: string; date: string | null; at: number | null; minor: number }[] = [];

  beforeAll(async () => {
    gw = await testGateway();
    m = await gw.merchant('Scenario');
    for (const [name, { campaignId, noteId }] of Object.entries(LINKS)) {
      code[name] = (await gw.mint(m.apiKey, { noteId, ...(campaignId === null ? {} : { campaignId }) })).code;
    }

    // Impressions: people's count, Googlebot's never do.
    const views: [LinkName, number, number][] = [
      ['L1', day1, 40], ['L2', day1, 25], ['L3', day1, 30], ['L4', day1, 10], ['L5', day1, 5],
      ['L1', day2, 20], ['L3', day2, 15], ['L5', day2, 3],
    ];
    for (const [link, at, n] of views) {
      gw.clock.now = at;
      for (let i = 0; i < n; i++) expect((await impression(gw, code[link]!)).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await impression(gw, code[link]!, GOOGLEBOT)).status).toBe(200);
      raw(link, at).impressions += n;
    }

    // Taps: [day, link, ip, bot?]. A visitor is an IP's /24 and a user agent; a second tap within 30 minutes is a repeat.
    const taps: [number, LinkName, string, boolean][] = [
      [day1, 'L1', '10.0.1.1', false], [day1, 'L1', '10.0.2.1', false], [day1, 'L1', '10.0.1.1', false], [day1, 'L1', '10.0.3.1', false],
      [day1, 'L1', '10.0.1.1', false], [day1, 'L1', '10.0.9.1', true],
      [day1, 'L2', '10.0.1.1', false], [day1, 'L2', '10.0.4.1', false], [day1, 'L2', '10.0.4.1', false],
      [day1, 'L3', '10.0.5.1', false], [day1, 'L3', '10.0.6.1', false], [day1, 'L3', '10.0.7.1', false], [day1, 'L3', '10.0.9.1', true],
      [day1, 'L3', '10.0.9.1', true],
      [day1, 'L4', '10.0.8.1', false],
      [day1, 'L5', '10.0.2.1', false],
      [day2, 'L1', '10.0.1.1', false], [day2, 'L1', '10.0.10.1', false], [day2, 'L1', '10.0.10.1', false],
      [day2, 'L3', '10.0.11.1', false], [day2, 'L3', '10.0.9.1', true],
      [day2, 'L5', '10.0.12.1', false],
    ];
    const seen = new Set<string>();
    const clickAt = new Map<string, { link: LinkName; at: number }>();
    const clicksOf = new Map<string, string[]>(); // `${link}|${day}` -> billable click ids
    for (const [at, link, ip, bot] of taps) {
      gw.clock.now = at;
      const res = await tap(gw, code[link]!, ip, bot ? GOOGLEBOT : SHOPPER_USER_AGENT);
      expect(res.status).toBe(302);
      const r = raw(link, at);
      const visitor = `${link}|${at}|${ip}`;
      if (bot) r.botClicks++;
      else {
        r.clicks++;
        if (!seen.has(visitor)) r.uniqueClicks++;
        seen.add(visitor);
        const list = clicksOf.get(`${link}|${at}`) ?? [];
        list.push(clickIdOf(res));
        clicksOf.set(`${link}|${at}`, list);
      }
      clickAt.set(clickIdOf(res), { link, at });
    }
    await gw.flush();

    // Orders, an hour after the day's taps: [orderId, link, day, amount in fen, new customer].
    const orders: [string, LinkName, number, number, boolean][] = [
      ['o-1', 'L1', day1, 12_990, true],
      ['o-2', 'L1', day1, 5_000, false],
      ['o-3', 'L2', day1, 8_850, true],
      ['o-4', 'L3', day1, 19_900, true],
      ['o-5', 'L3', day1, 1, false],
      ['o-6', 'L4', day1, 30_000, true],
      ['o-7', 'L1', day2, 7_777, true],
      ['o-8', 'L3', day2, 4_400, false],
      ['o-9', 'L5', day2, 2_500, true],
    ];
    const byId = new Map<string, { link: LinkName; at: number; minor: number; newCustomer: boolean }>();
    for (const [i, [orderId, link, day, minor, newCustomer]] of orders.entries()) {
      gw.clock.now = day + 3_600_000;
      const clickId = clicksOf.get(`${link}|${day}`)![i % clicksOf.get(`${link}|${day}`)!.length]!;
      const res = await order(gw, m.apiKey, { clickId, orderId, amount: (minor / 100).toFixed(2), newCustomer });
      expect(res.status, await res.clone().text()).toBe(201);
      expect(await res.json()).toMatchObject({ orderId, clickId, linkCode: code[link], duplicate: false, amount: minor / 100 });
      const r = raw(link, gw.clock.now);
      r.orders++;
      r.gmvMinor += minor;
      if (newCustomer) r.newCustomers++;
      byId.set(orderId, { link, at: gw.clock.now, minor, newCustomer });
    }
    // o-4 reported again (with another amount): counted once, the first report stands.
    gw.clock.now = day2 + 3_600_000;
    const clickOfO4 = clicksOf.get(`L3|${day1}`)![3 % 3]!;
    const again = await order(gw, m.apiKey, { clickId: clickOfO4, orderId: 'o-4', amount: 1, newCustomer: false });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ orderId: 'o-4', duplicate: true, amount: 199, newCustomer: true });

    // o-1 partly refunded (in two steps), o-6 wholly (no amount: everything left).
    for (const [orderId, amount] of [['o-1', 1000], ['o-1', 990], ['o-6', null]] as const) {
      const res = await gw.request(`/v1/conversions/${orderId}/refund`, { method: 'POST', key: m.apiKey, json: amount === null ? {} : { amount: amount / 100 } });
      expect(res.status, await res.clone().text()).toBe(200);
      const o = byId.get(orderId)!;
      const r = raw(o.link, o.at);
      const taken = amount ?? o.minor;
      r.gmvMinor -= taken;
      if (amount === null) {
        r.orders--;
        if (o.newCustomer) r.newCustomers--;
      }
    }
    // Nothing is left of o-6 to refund.
    const overRefund = await gw.request('/v1/conversions/o-6/refund', { method: 'POST', key: m.apiKey, json: { amount: 0.01 } });
    expect(overRefund.status).toBe(409);

    // Spend per campaign and day, and campaign totals; setting a day again replaces it.
    const setSpend = async (campaign: string, date: string | null, amount: string) => {
      const res = await gw.request(`/v1/campaigns/${campaign}/spend`, {
        method: 'PUT',
        key: m.apiKey,
        json: { amount, currency: 'CNY', ...(date === null ? {} : { date }) },
      });
      expect(res.status, await res.clone().text()).toBe(200);
    };
    await setSpend('spring', isoDate(day1), '999.99');
    const spendRows: [string, number | null, number][] = [
      ['spring', day1, 10_000],
      ['spring', day2, 5_050],
      ['spring', null, 2_000],
      ['summer', day1, 3_025],
      ['autumn', null, 1_000],
    ];
    for (const [campaign, at, minor] of spendRows) {
      await setSpend(campaign, at === null ? null : isoDate(at), (minor / 100).toFixed(2));
      spend.push({ campaign, date: at === null ? null : isoDate(at), at, minor });
    }
  });
  afterAll(() => gw.close());

  /** Expected raw figures per group id, summed over the given day buckets (null: all), with spend per the group type. */
  function expectedGroups(groupBy: 'merchant' | 'campaign' | 'note' | 'link', day: number | null): Map<string | null, Raw> {
    const groups = new Map<string | null, Raw>();
    const groupOf = (link: LinkName): string | null =>
      groupBy === 'merchant' ? m.id : groupBy === 'campaign' ? LINKS[link].campaignId : groupBy === 'note' ? LINKS[link].noteId : code[link]!;
    const add = (id: string | null, from: Partial<Raw>) => {
      const g = groups.get(id) ?? zero();
      for (const [k, v] of Object.entries(from)) g[k as keyof Raw] += v;
      groups.set(id, g);
    };
    for (const [key, r] of expected) {
      const [link, bucket] = key.split('|') as [LinkName, string];
      if (day !== null && bucket !== dayBucketOf(day)) continue;
      add(groupOf(link), r);
    }
    if (groupBy === 'merchant' || groupBy === 'campaign') {
      for (const s of spend) {
        // A campaign total belongs only to 'total' answers; a day's spend to its day.
        if (day !== null && (s.at === null || dayBucketOf(s.at) !== dayBucketOf(day))) continue;
        add(groupBy === 'merchant' ? m.id : s.campaign, { spendMinor: s.minor });
      }
    }
    return groups;
  }

  function byId(report: Report) {
    return new Map(report.groups.map((g) => [g.id, g.intervals]));
  }

  it.each(['merchant', 'campaign', 'note', 'link'] as const)('interval=total, groupBy=%s: every figure', async (groupBy) => {
    const report = await stats(gw, m.apiKey, `groupBy=${groupBy}&interval=total&${range}`);
    expect(report).toMatchObject({ currency: 'CNY', groupBy, interval: 'total', from: `${isoDate(todayStart - DAY_MS)}T00:00:00.000Z` });
    const want = expectedGroups(groupBy, null);
    const got = byId(report);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [id, r] of want) {
      expect(got.get(id), `group ${id}`).toEqual([{ start: `${isoDate(todayStart - DAY_MS)}T00:00:00.000Z`, ...figures(r) }]);
    }
  });

  it('the scripted counts are what the scenario meant (a sanity check on the model itself)', () => {
    const all = expectedGroups('merchant', null).get(m.id)!;
    expect(all).toEqual({
      impressions: 148,
      clicks: 18,
      uniqueClicks: 14,
      botClicks: 4,
      suspectClicks: 0,
      orders: 8,
      gmvMinor: 12_990 + 5_000 + 8_850 + 19_900 + 1 + 7_777 + 4_400 + 2_500 - 1_990,
      newCustomers: 5,
      spendMinor: 10_000 + 5_050 + 2_000 + 3_025 + 1_000,
    });
  });

  it('the campaign with spend and nothing else has null ratios where the denominator is missing', async () => {
    const report = await stats(gw, m.apiKey, `groupBy=campaign&interval=total&${range}`);
    const autumn = byId(report).get('autumn')![0]!;
    expect(autumn).toMatchObject({ impressions: 0, clicks: 0, ctr: null, conversionRate: null, costPerNewCustomer: null, roi: 0, spend: 10 });
    // Links without a campaign are grouped under null, and carry no spend: roi has no denominator.
    expect(byId(report).get(null)![0]).toMatchObject({ spend: 0, roi: null });
  });

  it('interval=day, groupBy=campaign: every figure of each day, with only that day’s spend', async () => {
    const report = await stats(gw, m.apiKey, `groupBy=campaign&interval=day&${range}`);
    expect(report.interval).toBe('day');
    const got = byId(report);
    const days = [day1, day2];
    const perDay = days.map((d) => expectedGroups('campaign', d));
    const ids = new Set([...perDay.flatMap((g) => [...g.keys()]), ...expectedGroups('campaign', null).keys()]);
    expect([...got.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(got.get(id), `campaign ${id}`).toEqual(
        days.map((d, i) => ({ start: `${isoDate(d)}T00:00:00.000Z`, ...figures(perDay[i]!.get(id) ?? zero()) })),
      );
    }
  });

  it('interval=hour carries the counters but no spend', async () => {
    const report = await stats(gw, m.apiKey, `groupBy=merchant&interval=hour&from=${isoDate(day1)}T10:00:00Z&to=${isoDate(day1)}T12:00:00Z`);
    const [taps, ordersHour] = byId(report).get(m.id)!;
    const d1 = expectedGroups('merchant', day1).get(m.id)!;
    expect(taps).toEqual({ start: `${isoDate(day1)}T10:00:00.000Z`, ...figures({ ...d1, orders: 0, gmvMinor: 0, newCustomers: 0, spendMinor: 0 }) });
    expect(ordersHour).toEqual({
      start: `${isoDate(day1)}T11:00:00.000Z`,
      ...figures({ ...zero(), orders: d1.orders, gmvMinor: d1.gmvMinor, newCustomers: d1.newCustomers }),
    });
  });
});

describe('the coffee-machine worked case', () => {
  let gw: TestGateway;
  let m: Key;
  const IMPRESSIONS = 17_000;

  beforeAll(async () => {
    gw = await testGateway();
    m = await gw.merchant('Coffee machines');
    const link = await gw.mint(m.apiKey, { noteId: 'coffee-note', campaignId: 'coffee' });
    for (let i = 0; i < IMPRESSIONS; i++) await impression(gw, link.code);
    const clickIds: string[] = [];
    // 250 visitors tap once; 50 of them tap again within the repeat window.
    const ipOf = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.1`;
    for (let i = 0; i < 250; i++) clickIds.push(clickIdOf(await tap(gw, link.code, ipOf(i))));
    for (let i = 0; i < 50; i++) clickIds.push(clickIdOf(await tap(gw, link.code, ipOf(i))));
    await gw.flush();
    gw.clock.now += 60_000;
    // 210 orders, 4,800.00 in all: 209 of 22.86 and one of 22.26.
    for (let i = 0; i < 210; i++) {
      const minor = i < 209 ? 2286 : 480_000 - 209 * 2286;
      const res = await order(gw, m.apiKey, { clickId: clickIds[i], orderId: `coffee-${i}`, amount: (minor / 100).toFixed(2), newCustomer: i < 198 });
      expect(res.status).toBe(201);
    }
    const res = await gw.request('/v1/campaigns/coffee/spend', { method: 'PUT', key: m.apiKey, json: { amount: 594.8, currency: 'CNY' } });
    expect(res.status).toBe(200);
  }, 120_000);
  afterAll(() => gw.close());

  it('reads as the issue’s example', async () => {
    const report = await stats(gw, m.apiKey, 'groupBy=campaign&interval=total');
    const [coffee] = report.groups.find((g) => g.id === 'coffee')!.intervals;
    expect(coffee).toMatchObject({
      impressions: IMPRESSIONS,
      clicks: 300,
      uniqueClicks: 250,
      botClicks: 0,
      orders: 210,
      gmv: 4800,
      newCustomers: 198,
      spend: 594.8,
    });
    expect(coffee!.ctr).toBeCloseTo(300 / IMPRESSIONS, 6);
    expect(coffee!.conversionRate).toBeCloseTo(210 / 250, 6);
    expect(coffee!.roi!.toFixed(2)).toBe('8.07');
    expect(coffee!.costPerNewCustomer!.toFixed(2)).toBe('3.00');
    expect(coffee!.costPerNewCustomer).toBe(3);
  });
});

describe('the impression pixel', () => {
  let gw: TestGateway;
  let m: Key;
  let code: string;

  beforeAll(async () => {
    gw = await testGateway();
    m = await gw.merchant('Pixel');
    code = (await gw.mint(m.apiKey, { noteId: 'pixel-note' })).code;
  });
  afterAll(() => gw.close());

  const impressions = async () => {
    await gw.flush();
    const report = await stats(gw, m.apiKey, 'groupBy=merchant&interval=total');
    return report.groups.find((g) => g.id === m.id)?.intervals[0]?.impressions ?? 0;
  };

  it('answers a 1x1 GIF, never cached, to a browser that takes images', async () => {
    const res = await impression(gw, code);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 6)]).toEqual(GIF_HEADER);
    expect(bytes[6]! | (bytes[7]! << 8)).toBe(1); // width
    expect(bytes[8]! | (bytes[9]! << 8)).toBe(1); // height
    expect(await impressions()).toBe(1);
  });

  it('answers 204 with no-store to Accept: application/json, and still counts', async () => {
    const res = await impression(gw, code, SHOPPER_USER_AGENT, 'application/json');
    expect(res.status).toBe(204);
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    expect(await res.text()).toBe('');
    expect(await impressions()).toBe(2);
  });

  it('answers the pixel for an unknown or malformed code and counts nothing', async () => {
    for (const path of ['/i/zzzzzzzz', '/i/no-such-code-here', '/i/a']) {
      const res = await gw.request(path, { headers: { accept: 'image/*' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      expect(res.headers.get('cache-control')).toMatch(/no-store/);
    }
    expect(await impressions()).toBe(2);
  });

  it('does not count a bot’s view, but answers it the same', async () => {
    const res = await impression(gw, code, GOOGLEBOT);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(await impressions()).toBe(2);
  });

  it('answers the pixel for a link a tap would not follow (paused, expired, at its click cap) and counts nothing', async () => {
    const paused = (await gw.mint(m.apiKey, { noteId: 'pixel-note' })).code;
    expect((await gw.request(`/v1/links/${paused}`, { method: 'PATCH', key: m.apiKey, json: { status: 'paused' } })).status).toBe(200);
    const expired = (await gw.mint(m.apiKey, { noteId: 'pixel-note', expiresAt: new Date(gw.clock.now + 60_000).toISOString() })).code;
    const capped = (await gw.mint(m.apiKey, { noteId: 'pixel-note', maxClicks: 1 })).code;
    expect((await tap(gw, capped, '10.9.9.9')).status).toBe(302);
    await gw.flush();
    gw.clock.now += 60_000;
    try {
      for (const gone of [paused, expired, capped]) {
        expect((await tap(gw, gone, '10.9.9.8')).status, gone).toBe(410);
        const res = await impression(gw, gone);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/gif');
      }
      expect(await impressions()).toBe(2);
    } finally {
      gw.clock.now -= 60_000;
    }
  });
});

describe('verifying a landing', () => {
  let gw: TestGateway;
  let a: Key;
  let b: Key;
  let landing: string;
  let clickId: string;
  let code: string;
  const clickedAt = Date.now();

  beforeAll(async () => {
    gw = await testGateway();
    gw.clock.now = clickedAt;
    a = await gw.merchant('A');
    b = await gw.merchant('B');
    code = (await gw.mint(a.apiKey, { noteId: 'verify-note', campaignId: 'verify-campaign' })).code;
    const res = await tap(gw, code, '10.1.1.1');
    landing = res.headers.get('location') ?? '';
    clickId = clickIdOf(res);
    await gw.flush();
  });
  afterAll(() => gw.close());

  const verify = async (key: string, url: string) => {
    const res = await gw.request('/v1/attribution/verify', { method: 'POST', key, json: { url } });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  it('a real landing verifies, with its ids', async () => {
    expect(await verify(a.apiKey, landing)).toEqual({
      valid: true,
      clickId,
      linkCode: code,
      noteId: 'verify-note',
      campaignId: 'verify-campaign',
      clickedAt: new Date(clickedAt).toISOString(),
      keyId: 'k2',
    });
  });

  it('a tampered landing is a bad signature', async () => {
    expect(await verify(a.apiKey, landing.replace('id=123', 'id=124'))).toMatchObject({ valid: false, reason: 'bad-signature' });
    expect(await verify(a.apiKey, landing.replace(`hl_nid=verify-note`, 'hl_nid=other-note'))).toMatchObject({ valid: false, reason: 'bad-signature' });
  });

  it('an unknown signing key is named so', async () => {
    expect(await verify(a.apiKey, landing.replace('hl_kid=k2', 'hl_kid=k9'))).toMatchObject({ valid: false, reason: 'unknown-key' });
  });

  it('another merchant’s click is an unknown click', async () => {
    expect(await verify(b.apiKey, landing)).toMatchObject({ valid: false, reason: 'unknown-click' });
  });

  it('a landing whose click is not written yet is an unknown click that says to retry, and verifies once it is', async () => {
    const early = (await tap(gw, code, '10.1.1.2')).headers.get('location') ?? '';
    expect(await verify(a.apiKey, early)).toMatchObject({ valid: false, reason: 'unknown-click', detail: expect.stringContaining('retry') });
    await gw.flush();
    expect(await verify(a.apiKey, early)).toMatchObject({ valid: true, linkCode: code });
  });

  it('a landing older than the window has expired', async () => {
    gw.clock.now = clickedAt + 8 * DAY_MS;
    try {
      expect(await verify(a.apiKey, landing)).toMatchObject({ valid: false, reason: 'expired', detail: expect.any(String) });
    } finally {
      gw.clock.now = clickedAt;
    }
  });
});

describe('exporting clicks', () => {
  let gw: TestGateway;
  let m: Key;
  let codes: string[];
  let start: number;
  /** clickId -> kind the test expects, for the clicks tapped at `start` */
  const made = new Map<string, { kind: string; linkCode: string }>();
  let earlyIds: string[];

  beforeAll(async () => {
    gw = await testGateway();
    start = Date.now();
    m = await gw.merchant('Exporter');
    codes = [(await gw.mint(m.apiKey, { noteId: 'x1', campaignId: 'xc' })).code, (await gw.mint(m.apiKey, { noteId: 'x2' })).code];
    // Two taps half an hour earlier, outside the range read below.
    gw.clock.now = start - 40 * 60_000;
    earlyIds = [clickIdOf(await tap(gw, codes[0]!, '10.2.0.1')), clickIdOf(await tap(gw, codes[1]!, '10.2.0.2'))];
    gw.clock.now = start;
    const record = async (code: string, ip: string, kind: string, ua = SHOPPER_USER_AGENT) => {
      const res = await tap(gw, code, ip, ua);
      made.set(clickIdOf(res), { kind, linkCode: code });
    };
    await record(codes[0]!, '10.3.1.1', 'unique');
    await record(codes[0]!, '10.3.1.1', 'repeat');
    await record(codes[0]!, '10.3.2.1', 'unique');
    await record(codes[0]!, '10.3.2.1', 'unique', ANDROID_CHROME);
    await record(codes[1]!, '10.3.1.1', 'unique');
    await record(codes[1]!, '10.3.9.1', 'bot', GOOGLEBOT);
    // One visitor flooding a link: the 21st and later taps of a minute are suspect.
    await record(codes[1]!, '10.3.5.1', 'unique');
    for (let i = 2; i <= 22; i++) await record(codes[1]!, '10.3.5.1', i <= 20 ? 'repeat' : 'suspect');
    await gw.flush();
  });
  afterAll(() => gw.close());

  const range = () => `from=${new Date(start - 5 * 60_000).toISOString()}&to=${new Date(start + 5 * 60_000).toISOString()}`;
  const ndjson = async (query: string) => {
    const res = await gw.request(`/v1/clicks?${query}`, { key: m.apiKey });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await res.text();
    const lines = text === '' ? [] : text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    return { lines, next: /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null };
  };

  it('NDJSON lines parse and are exactly the clicks made in the range, with their kinds', async () => {
    const { lines, next } = await ndjson(range());
    expect(next).toBeNull();
    expect(lines).toHaveLength(made.size);
    for (const line of lines) {
      const want = made.get(line.clickId as string);
      expect(want, `click ${String(line.clickId)}`).toBeDefined();
      expect(line).toMatchObject({ kind: want!.kind, linkCode: want!.linkCode, at: new Date(start).toISOString() });
    }
    expect(new Set(lines.map((l) => l.clickId)).size).toBe(made.size);
    for (const id of earlyIds) expect(lines.some((l) => l.clickId === id)).toBe(false);
  });

  it('the default range holds the earlier taps too', async () => {
    const { lines } = await ndjson('');
    expect(lines.map((l) => l.clickId).sort()).toEqual([...made.keys(), ...earlyIds].sort());
  });

  it('CSV has a header row and the same records', async () => {
    const res = await gw.request(`/v1/clicks?${range()}`, { key: m.apiKey, headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await res.text()).split('\r\n').filter((r) => r !== '');
    expect(rows[0]!.split(',')).toEqual(expect.arrayContaining(['clickId', 'at', 'kind', 'linkCode']));
    expect(rows).toHaveLength(made.size + 1);
    // Fields are quoted; ids are exported exactly (about 1 in 64 click ids starts with "-"), so a
    // program can join them to landings and orders.
    const cells = rows.slice(1).map((r) => r.split(',')[0]!);
    for (const cell of cells) expect(cell).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(cells.map((cell) => cell.slice(1, -1)).sort()).toEqual([...made.keys()].sort());
  });

  it('paging with limit=2 through Link rel=next covers every click once', async () => {
    const ids: string[] = [];
    let path: string | null = `/v1/clicks?${range()}&limit=2`;
    let pages = 0;
    while (path !== null) {
      const res = await gw.request(path, { key: m.apiKey });
      expect(res.status).toBe(200);
      const lines = (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { clickId: string });
      expect(lines.length).toBeLessThanOrEqual(2);
      ids.push(...lines.map((l) => l.clickId));
      path = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
      if (path !== null) expect(path).toMatch(/^\/v1\/clicks\?/);
      expect(++pages).toBeLessThan(100);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([...made.keys()].sort());
  });

  it('the figures of /v1/stats reconcile with the exported kinds', async () => {
    const { lines } = await ndjson('');
    const kinds = (kind: string) => lines.filter((l) => l.kind === kind).length;
    expect(kinds('suspect')).toBe(2);
    const report = await stats(gw, m.apiKey, 'groupBy=merchant&interval=total');
    const f = report.groups.find((g) => g.id === m.id)!.intervals[0]!;
    expect(f.clicks).toBe(kinds('unique') + kinds('repeat'));
    expect(f.uniqueClicks).toBe(kinds('unique'));
    expect(f.botClicks).toBe(kinds('bot'));
    expect(f.suspectClicks).toBe(kinds('suspect'));
    expect(f.clicks + f.botClicks + f.suspectClicks).toBe(lines.length);
    // And per link.
    const perLink = await stats(gw, m.apiKey, 'groupBy=link&interval=total');
    for (const code of codes) {
      const l = perLink.groups.find((g) => g.id === code)!.intervals[0]!;
      const mine = lines.filter((x) => x.linkCode === code);
      expect(l.clicks).toBe(mine.filter((x) => x.kind === 'unique' || x.kind === 'repeat').length);
      expect(l.botClicks).toBe(mine.filter((x) => x.kind === 'bot').length);
      expect(l.suspectClicks).toBe(mine.filter((x) => x.kind === 'suspect').length);
    }
  });
});

describe('exporting clicks as CSV', () => {
  it('defuses free text that a spreadsheet would run as a formula', async () => {
    const gw = await testGateway();
    try {
      const { apiKey } = await gw.merchant();
      const link = await gw.mint(apiKey);
      await gw.request(`/${link.code}`, { headers: { referer: '=HYPERLINK("https://evil.example")' } });
      await gw.flush();
      const text = await (await gw.request('/v1/clicks', { key: apiKey, headers: { accept: 'text/csv' } })).text();
      expect(text).toContain(`"'=HYPERLINK(""https://evil.example"")"`);
      expect(text).not.toMatch(/(^|,)"=HYPERLINK/m);
    } finally {
      await gw.close();
    }
  });

  it('defuses what the user-agent parser copies out of a visitor’s text too (a browser version)', async () => {
    const gw = await testGateway();
    try {
      const { apiKey } = await gw.merchant();
      const link = await gw.mint(apiKey);
      await gw.request(`/${link.code}`, { headers: { 'user-agent': 'Mozilla/5.0 Chromium/-A1-B2 Safari' } });
      await gw.flush();
      const text = await (await gw.request('/v1/clicks', { key: apiKey, headers: { accept: 'text/csv' } })).text();
      expect(text).toContain(`"'-A1-B2"`);
      expect(text).not.toMatch(/(^|,)"-A1-B2"/m);
    } finally {
      await gw.close();
    }
  });
});
