import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGateway, type TestGateway } from '../helpers/app.js';
import { namespaceSnapshot } from '../helpers/snapshot.js';

/**
 * Merchants of "Close the loop" only ever see and change their own figures: no key, a wrong key,
 * or another merchant's click, order or campaign id gets nothing, and learns nothing.
 */

type Key = { id: string; apiKey: string };

let gw: TestGateway;
let a: Key;
let b: Key;
let aClickId: string;
let aLanding: string;
let aCode: string;
let bClickId: string;

const clickIdOf = (res: Response): string => new URL(res.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '';

beforeAll(async () => {
  gw = await testGateway();
  a = await gw.merchant('A');
  b = await gw.merchant('B');
  aCode = (await gw.mint(a.apiKey, { noteId: 'shared-note', campaignId: 'shared-campaign' })).code;
  const bCode = (await gw.mint(b.apiKey, { noteId: 'shared-note', campaignId: 'shared-campaign' })).code;
  await gw.request(`/i/${aCode}`, { headers: { accept: 'image/gif' } });
  const tapA = await gw.request(`/${aCode}`, { headers: { 'x-test-ip': '10.7.1.1' } });
  aLanding = tapA.headers.get('location') ?? '';
  aClickId = clickIdOf(tapA);
  bClickId = clickIdOf(await gw.request(`/${bCode}`, { headers: { 'x-test-ip': '10.7.2.1' } }));
  await gw.flush();
  const ordered = await gw.request('/v1/conversions', {
    method: 'POST',
    key: a.apiKey,
    json: { clickId: aClickId, orderId: 'a-order-1', amount: 88.8, currency: 'CNY', newCustomer: true },
  });
  expect(ordered.status).toBe(201);
  const spent = await gw.request('/v1/campaigns/shared-campaign/spend', { method: 'PUT', key: a.apiKey, json: { amount: 10, currency: 'CNY' } });
  expect(spent.status).toBe(200);
});

afterAll(async () => {
  await gw.close();
});

async function statsOf(key: string, query = 'groupBy=campaign&interval=total'): Promise<{ groups: { id: string | null; intervals: Record<string, unknown>[] }[] }> {
  const res = await gw.request(`/v1/stats?${query}`, { key });
  expect(res.status).toBe(200);
  return res.json() as never;
}

async function everythingOf(key: string) {
  return Promise.all((['merchant', 'campaign', 'note', 'link'] as const).map((groupBy) => statsOf(key, `groupBy=${groupBy}&interval=total`)));
}

describe('without a valid key', () => {
  const endpoints: [string, string, unknown][] = [
    ['POST', '/v1/attribution/verify', { url: 'https://item.taobao.com/item.htm?id=1' }],
    ['POST', '/v1/conversions', { clickId: 'x', orderId: 'o', amount: 1, currency: 'CNY', newCustomer: false }],
    ['POST', '/v1/conversions/a-order-1/refund', {}],
    ['PUT', '/v1/campaigns/shared-campaign/spend', { amount: 1, currency: 'CNY' }],
    ['GET', '/v1/stats', undefined],
    ['GET', '/v1/clicks', undefined],
  ];
  const credentials: [string, Record<string, string>][] = [
    ['no key', {}],
    ['a wrong key', { authorization: 'Bearer hl_not-a-real-key-0123456789' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['basic auth', { authorization: 'Basic YTpi' }],
  ];

  it.each(endpoints.flatMap(([method, path, json]) => credentials.map(([what, headers]) => [`${method} ${path} with ${what}`, method, path, json, headers] as const)))(
    '%s -> 401, nothing changed',
    async (_what, method, path, json, headers) => {
      const before = await namespaceSnapshot(gw.redis);
      const res = await gw.request(path, { method, headers, ...(json === undefined ? {} : { json }) });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 401, type: 'https://hanglink.dev/problems/unauthorized' });
      expect(await namespaceSnapshot(gw.redis)).toEqual(before);
    },
  );

  it('the admin token is not a merchant key', async () => {
    const res = await gw.request('/v1/stats', { key: 'test-admin-token-0123456789' });
    expect(res.status).toBe(401);
  });
});

describe('merchant B and A’s data', () => {
  it('an order on A’s click is 404, the same body as for an unknown click id, and A’s figures do not move', async () => {
    const aBefore = await everythingOf(a.apiKey);
    const snapshot = await namespaceSnapshot(gw.redis);
    const order = (clickId: string) =>
      gw.request('/v1/conversions', {
        method: 'POST',
        key: b.apiKey,
        json: { clickId, orderId: 'b-order-1', amount: 50, currency: 'CNY', newCustomer: true },
      });
    const foreign = await order(aClickId);
    const unknown = await order('zzzzzzzzzzzzzzzzzzzzzz');
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
    const foreignBody = await foreign.text();
    expect(foreignBody).toBe(await unknown.text());
    expect(JSON.parse(foreignBody)).toMatchObject({ type: 'https://hanglink.dev/problems/unknown-click' });
    expect(await namespaceSnapshot(gw.redis)).toEqual(snapshot);
    expect(await everythingOf(a.apiKey)).toEqual(aBefore);
  });

  it('reusing A’s orderId with B’s own click is B’s order, not a duplicate of A’s', async () => {
    const aBefore = await everythingOf(a.apiKey);
    const res = await gw.request('/v1/conversions', {
      method: 'POST',
      key: b.apiKey,
      json: { clickId: bClickId, orderId: 'a-order-1', amount: 5, currency: 'CNY', newCustomer: false },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ orderId: 'a-order-1', clickId: bClickId, duplicate: false, amount: 5 });
    expect(await everythingOf(a.apiKey)).toEqual(aBefore);
  });

  it('B refunding A’s orderId refunds only B’s, and an orderId only A has is 404', async () => {
    const aBefore = await everythingOf(a.apiKey);
    const onlyA = await gw.request('/v1/conversions', {
      method: 'POST',
      key: a.apiKey,
      json: { clickId: aClickId, orderId: 'a-only-order', amount: 12, currency: 'CNY', newCustomer: false },
    });
    expect(onlyA.status).toBe(201);
    const aWithOrder = await everythingOf(a.apiKey);
    expect(aWithOrder).not.toEqual(aBefore);
    const snapshot = await namespaceSnapshot(gw.redis);
    const refund = (orderId: string) => gw.request(`/v1/conversions/${orderId}/refund`, { method: 'POST', key: b.apiKey, json: {} });
    const foreign = await refund('a-only-order');
    const unknown = await refund('never-reported');
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(await foreign.text()).toBe(await unknown.text());
    expect(await namespaceSnapshot(gw.redis)).toEqual(snapshot);
    expect(await everythingOf(a.apiKey)).toEqual(aWithOrder);
  });

  it('B verifying A’s landing learns only "unknown-click"', async () => {
    const res = await gw.request('/v1/attribution/verify', { method: 'POST', key: b.apiKey, json: { url: aLanding } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ valid: false, reason: 'unknown-click' });
    expect(JSON.stringify(body)).not.toContain('shared-campaign');
    expect(JSON.stringify(body)).not.toContain(a.id);
  });

  it('B’s spend on a campaign id A also uses never changes A’s figures', async () => {
    const aBefore = await everythingOf(a.apiKey);
    const today = new Date(gw.clock.now).toISOString().slice(0, 10);
    for (const body of [{ amount: 999, currency: 'CNY' }, { amount: 77, currency: 'CNY', date: today }]) {
      const res = await gw.request('/v1/campaigns/shared-campaign/spend', { method: 'PUT', key: b.apiKey, json: body });
      expect(res.status).toBe(200);
    }
    expect(await everythingOf(a.apiKey)).toEqual(aBefore);
    const aDaily = await statsOf(a.apiKey, 'groupBy=campaign&interval=day');
    const shared = aDaily.groups.find((g) => g.id === 'shared-campaign')!;
    expect(shared.intervals.every((i) => i.spend === 0)).toBe(true);
    const aTotal = (await statsOf(a.apiKey)).groups.find((g) => g.id === 'shared-campaign')!.intervals[0]!;
    expect(aTotal.spend).toBe(10);
    const bTotal = (await statsOf(b.apiKey)).groups.find((g) => g.id === 'shared-campaign')!.intervals[0]!;
    expect(bTotal.spend).toBe(999 + 77);
  });

  it('B’s stats never include A’s groups or counts', async () => {
    const bStats = await everythingOf(b.apiKey);
    const text = JSON.stringify(bStats);
    expect(text).not.toContain(aCode);
    expect(text).not.toContain(a.id);
    const [merchant] = bStats;
    expect(merchant!.groups.map((g) => g.id)).toEqual([b.id]);
    // B has one click of its own, no impressions (A's pixel counted for A) and its own order of 5.00.
    expect(merchant!.groups[0]!.intervals[0]).toMatchObject({ impressions: 0, clicks: 1, uniqueClicks: 1, orders: 1, gmv: 5 });
  });

  it('B’s export never includes A’s clicks', async () => {
    for (const accept of ['application/x-ndjson', 'text/csv']) {
      const res = await gw.request('/v1/clicks', { key: b.apiKey, headers: { accept } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain(bClickId);
      expect(text).not.toContain(aClickId);
      expect(text).not.toContain(aCode);
    }
    const res = await gw.request('/v1/clicks', { key: a.apiKey });
    const text = await res.text();
    expect(text).toContain(aClickId);
    expect(text).not.toContain(bClickId);
  });

  it('a cursor from A’s export does not open A’s stream to B', async () => {
    const page = await gw.request('/v1/clicks?limit=1', { key: a.apiKey });
    const text = await page.text();
    expect(text).toContain(aClickId);
    const cursor = /cursor=([^&>]+)/.exec(page.headers.get('link') ?? '')?.[1] ?? '0-0';
    const res = await gw.request(`/v1/clicks?cursor=${cursor}`, { key: b.apiKey });
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(aClickId);
  });
});
