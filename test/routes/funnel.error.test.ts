import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGateway, type TestGateway } from '../helpers/app.js';
import { namespaceSnapshot } from '../helpers/snapshot.js';

/**
 * Refusals of "Close the loop": each answers a 4xx problem document that says what was wrong,
 * and leaves every figure (and every stored key) exactly as it was.
 */

const DAY_MS = 86_400_000;

let gw: TestGateway;
let key: string;
let clickId: string;
let clickedAt: number;
const statuses: { what: string; status: number }[] = [];

beforeAll(async () => {
  gw = await testGateway();
  clickedAt = gw.clock.now;
  const m = await gw.merchant('Errors');
  key = m.apiKey;
  const link = await gw.mint(key, { noteId: 'err-note', campaignId: 'err-campaign' });
  await gw.request(`/i/${link.code}`, { headers: { accept: 'image/gif' } });
  const res = await gw.request(`/${link.code}`, { headers: { 'x-test-ip': '10.9.1.1' } });
  clickId = new URL(res.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '';
  await gw.flush();
  const ordered = await send('/v1/conversions', {
    method: 'POST',
    key,
    json: { clickId, orderId: 'order-1', amount: '100.00', currency: 'CNY', newCustomer: true },
  });
  expect(ordered.status).toBe(201);
  const spent = await send('/v1/campaigns/err-campaign/spend', { method: 'PUT', key, json: { amount: 25, currency: 'CNY' } });
  expect(spent.status).toBe(200);
});

afterAll(async () => {
  await gw.close();
});

async function send(path: string, init: Parameters<TestGateway['request']>[1] = {}): Promise<Response> {
  const res = await gw.request(path, init);
  statuses.push({ what: `${init.method ?? 'GET'} ${path}`, status: res.status });
  return res;
}

async function totals(): Promise<unknown> {
  const res = await gw.request('/v1/stats?groupBy=link&interval=total', { key });
  expect(res.status).toBe(200);
  return res.json();
}

async function expectProblem(res: Response, status: number, type?: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/hanglink\.dev\/problems\/./), title: expect.any(String), detail: expect.any(String) });
  expect((body.detail as string).length).toBeGreaterThan(0);
  if (type !== undefined) expect(body.type).toBe(`https://hanglink.dev/problems/${type}`);
  return body;
}

/** A request that must be refused, changing neither the figures nor anything stored. */
async function refused(request: () => Promise<Response>, status: number, type?: string): Promise<Record<string, unknown>> {
  const before = await namespaceSnapshot(gw.redis);
  const figures = await totals();
  const body = await expectProblem(await request(), status, type);
  await gw.flush();
  expect(await namespaceSnapshot(gw.redis)).toEqual(before);
  expect(await totals()).toEqual(figures);
  return body;
}

const report = (body: Record<string, unknown>) =>
  send('/v1/conversions', {
    method: 'POST',
    key,
    json: { clickId, orderId: `order-${Math.random().toString(36).slice(2, 10)}`, amount: 10, currency: 'CNY', newCustomer: true, ...body },
  });

describe('POST /v1/conversions refusals', () => {
  it.each([
    ['negative', -1, 'invalid-amount'],
    ['negative text', '-1.00', 'invalid-amount'],
    ['not a number', 'abc', 'invalid-amount'],
    ['three decimals', 1.234, 'invalid-amount'],
    ['three decimals as text', '1.234', 'invalid-amount'],
    ['a float sum', 0.1 + 0.2, 'invalid-amount'],
    ['a boolean', true, undefined],
    ['null', null, undefined],
  ])('amount %s', async (_what, amount, type) => {
    const body = await refused(() => report({ amount }), 400, type);
    if (type !== undefined) expect(body.field).toBe('amount');
  });

  it('a currency other than the merchant’s', async () => {
    const body = await refused(() => report({ currency: 'USD' }), 400, 'currency-mismatch');
    expect(body).toMatchObject({ field: 'currency', expected: 'CNY' });
  });

  it('a currency that is no ISO code', async () => {
    await refused(() => report({ currency: 'cny' }), 400, 'invalid-currency');
  });

  it('an unknown click', async () => {
    const body = await refused(() => report({ clickId: 'no-such-click-0000' }), 404, 'unknown-click');
    expect(body.field).toBe('clickId');
  });

  it('an order of a click older than the 7-day window', async () => {
    gw.clock.now = clickedAt + 8 * DAY_MS;
    try {
      const body = await refused(() => report({}), 400, 'outside-attribution-window');
      expect(body.field).toBe('occurredAt');
      await refused(() => report({ occurredAt: new Date(clickedAt + 7 * DAY_MS + 60_000).toISOString() }), 400, 'outside-attribution-window');
    } finally {
      gw.clock.now = clickedAt;
    }
  });

  it('an order already reported, reported again after its click left the window: the same duplicate answer, nothing counted', async () => {
    gw.clock.now = clickedAt + 30 * DAY_MS;
    try {
      const before = await namespaceSnapshot(gw.redis);
      const figures = await totals();
      const res = await send('/v1/conversions', { method: 'POST', key, json: { clickId, orderId: 'order-1', amount: '100.00', currency: 'CNY', newCustomer: true } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ orderId: 'order-1', clickId, duplicate: true, amount: 100 });
      expect(await namespaceSnapshot(gw.redis)).toEqual(before);
      expect(await totals()).toEqual(figures);
    } finally {
      gw.clock.now = clickedAt;
    }
  });

  it('occurredAt before the click', async () => {
    await refused(() => report({ occurredAt: new Date(clickedAt - 3_600_000).toISOString() }), 400, 'occurred-before-click');
  });

  it('occurredAt in the future', async () => {
    await refused(() => report({ occurredAt: new Date(clickedAt + DAY_MS).toISOString() }), 400, 'occurred-in-future');
  });

  it('a malformed occurredAt, orderId, missing fields or unknown fields', async () => {
    await refused(() => report({ occurredAt: 'yesterday' }), 400);
    await refused(() => report({ orderId: 'has space' }), 400, 'invalid-order-id');
    await refused(() => report({ orderId: '' }), 400);
    await refused(() => report({ newCustomer: 'yes' }), 400);
    await refused(() => report({ surprise: 1 }), 400);
    await refused(() => send('/v1/conversions', { method: 'POST', key, json: { clickId } }), 400);
  });

  it('a duplicate with a bad amount is refused before it is found a duplicate', async () => {
    await refused(() => report({ orderId: 'order-1', amount: 'abc' }), 400, 'invalid-amount');
  });
});

describe('POST /v1/conversions/:orderId/refund refusals', () => {
  const refund = (orderId: string, body: Record<string, unknown>) => send(`/v1/conversions/${orderId}/refund`, { method: 'POST', key, json: body });

  it('bad amounts', async () => {
    for (const amount of [-1, 'abc', true, 1.234]) await refused(() => refund('order-1', { amount }), 400);
  });

  it('an amount of 0, which refunds nothing: 400 naming the way to refund the rest', async () => {
    for (const amount of [0, '0.00']) {
      const body = await refused(() => refund('order-1', { amount }), 400, 'invalid-amount');
      expect(body).toMatchObject({ field: 'amount', detail: expect.stringContaining('leave it out') });
    }
  });

  it('an unknown order', async () => {
    const body = await refused(() => refund('no-such-order', {}), 404, 'unknown-order');
    expect(body.field).toBe('orderId');
  });

  it('a refund beyond what is left of the order, even when repeated', async () => {
    expect((await refund('order-1', { amount: 60 })).status).toBe(200);
    const body = await refused(() => refund('order-1', { amount: 60 }), 409, 'refund-exceeds-order');
    expect(body).toMatchObject({ field: 'amount', remaining: 40 });
    await refused(() => refund('order-1', { amount: 100.01 }), 409, 'refund-exceeds-order');
    expect((await refund('order-1', {})).status).toBe(200);
    // Nothing is left: a whole refund again, or any amount, is a conflict.
    await refused(() => refund('order-1', {}), 409, 'refund-exceeds-order');
    await refused(() => refund('order-1', { amount: 0.01 }), 409, 'refund-exceeds-order');
  });
});

describe('PUT /v1/campaigns/:campaignId/spend refusals', () => {
  const spend = (campaignId: string, body: Record<string, unknown>) => send(`/v1/campaigns/${campaignId}/spend`, { method: 'PUT', key, json: body });

  it('a bad campaignId', async () => {
    await refused(() => spend('bad%20id', { amount: 1, currency: 'CNY' }), 400, 'invalid-id');
    await refused(() => spend('x'.repeat(129), { amount: 1, currency: 'CNY' }), 400);
  });

  it('a negative or malformed amount', async () => {
    for (const amount of [-5, '-5', 'abc', true, 1.001]) await refused(() => spend('err-campaign', { amount, currency: 'CNY' }), 400);
  });

  it('the wrong currency', async () => {
    await refused(() => spend('err-campaign', { amount: 5, currency: 'USD' }), 400, 'currency-mismatch');
  });

  it('a malformed date', async () => {
    for (const date of ['2026-02-30', '26-01-01', 'today']) await refused(() => spend('err-campaign', { amount: 5, currency: 'CNY', date }), 400);
  });

  it('a day before 1970, which no day bucket can name', async () => {
    for (const date of ['0000-01-01', '1969-12-31']) {
      const body = await refused(() => spend('err-campaign', { amount: 5, currency: 'CNY', date }), 400);
      expect(body.detail).toMatch(/1970-01-01 or later/);
    }
  });
});

describe('GET /v1/stats refusals', () => {
  const stats = (query: string) => send(`/v1/stats?${query}`, { key });

  it.each([
    ['groupBy=country', 'invalid-group-by'],
    ['interval=week', 'invalid-interval'],
    ['from=2026-03-02&to=2026-03-01', 'invalid-range'],
    ['from=2026-03-01&to=2026-03-01', 'invalid-range'],
    ['interval=hour&from=2026-01-01&to=2026-02-02', 'range-too-long'],
    ['interval=day&from=2024-01-01&to=2025-02-05', 'range-too-long'],
    ['interval=total&from=2024-01-01&to=2025-02-05', 'range-too-long'],
    ['from=yesterday', 'invalid-date'],
    ['from=2026-13-01', 'invalid-date'],
    ['from=2026-02-30', 'invalid-date'],
    ['from=2026-03-01T10:00:00', 'invalid-date'],
    ['to=1700000000000', 'invalid-date'],
    ['surprise=1', undefined],
  ])('%s', async (query, type) => {
    await refused(() => stats(query), 400, type);
  });

  it('the longest ranges allowed are accepted', async () => {
    expect((await stats('interval=hour&from=2026-01-01&to=2026-02-01')).status).toBe(200);
    expect((await stats('interval=day&from=2024-01-01&to=2025-02-04')).status).toBe(200);
  });

  it('a query that would read more than 50,000 group buckets, naming how to narrow it', async () => {
    // 68 links, each tapped once, by the hour over a month: 68 × 744 = 50,592 buckets.
    const { apiKey } = await gw.merchant('Many links');
    const bulk = await gw.request('/v1/links/bulk', {
      method: 'POST',
      key: apiKey,
      json: { items: Array.from({ length: 68 }, (_, i) => ({ url: `https://item.taobao.com/item.htm?id=${i}`, noteId: 'many', category: 'beauty' })) },
    });
    const codes = ((await bulk.json()) as { results: { link: { code: string } }[] }).results.map((result) => result.link.code);
    for (const code of codes) expect((await gw.request(`/${code}`)).status).toBe(302);
    await gw.flush();
    const month = `from=${new Date(gw.clock.now - 31 * DAY_MS + 3_600_000).toISOString().slice(0, 13)}:00:00Z`;
    const body = await refused(() => send(`/v1/stats?groupBy=link&interval=hour&${month}`, { key: apiKey }), 400, 'query-too-large');
    expect(body).toMatchObject({ groups: 68, maxBucketsRead: 50_000 });
    // By note, or per day, the same range is answered.
    expect((await send(`/v1/stats?groupBy=note&interval=hour&${month}`, { key: apiKey })).status).toBe(200);
    expect((await send(`/v1/stats?groupBy=link&interval=day&${month}`, { key: apiKey })).status).toBe(200);
  });
});

describe('GET /v1/clicks refusals', () => {
  it.each([
    ['cursor=not-a-cursor', 'invalid-cursor'],
    ['cursor=1-2-3', 'invalid-cursor'],
    ['cursor=%27%3BDROP', 'invalid-cursor'],
    // Past what a stream id can hold: these reached Redis, which answered an error, and the gateway a 500.
    ['cursor=18446744073709551616', 'invalid-cursor'],
    ['cursor=99999999999999999999', 'invalid-cursor'],
    ['cursor=0-18446744073709551616', 'invalid-cursor'],
    ['cursor=18446744073709551615-18446744073709551615', 'invalid-cursor'],
    ['limit=0', undefined],
    ['limit=10001', undefined],
    ['limit=abc', undefined],
    // Numbers only in JavaScript's eyes: 10, 16, 5 and 10.
    ['limit=1e1', undefined],
    ['limit=0x10', undefined],
    ['limit=%205', undefined],
    ['limit=10.0', undefined],
    ['from=2026-03-02&to=2026-03-01', 'invalid-range'],
    ['from=nope', 'invalid-date'],
  ])('%s', async (query, type) => {
    await refused(() => send(`/v1/clicks?${query}`, { key }), 400, type);
  });

  it.each(['to=1969-12-31', 'to=1970-01-01', 'from=0000-01-01&to=0000-01-02', 'to=0001-01-01T00:00:00Z'])('%s, a range before any tap: an empty page', async (query) => {
    // These reached Redis as a stream range ending before 0, which it answers with an error: a 500.
    const res = await send(`/v1/clicks?${query}`, { key });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it.each(['18446744073709551615', '18446744073709551615-18446744073709551614'])('cursor=%s, the largest ids there are: an empty last page', async (cursor) => {
    const res = await send(`/v1/clicks?cursor=${cursor}`, { key });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(res.headers.get('link')).toBeNull();
  });
});

describe('POST /v1/attribution/verify refusals', () => {
  it.each([[123], [null], [{ href: 'https://item.taobao.com/' }], [['https://item.taobao.com/']]])('url %j', async (url) => {
    await refused(() => send('/v1/attribution/verify', { method: 'POST', key, json: { url } }), 400, 'validation-failed');
  });

  it('no url at all, or extra fields', async () => {
    await refused(() => send('/v1/attribution/verify', { method: 'POST', key, json: {} }), 400);
    await refused(() => send('/v1/attribution/verify', { method: 'POST', key, json: { url: 'https://x.test/', extra: 1 } }), 400);
  });

  it('a string that is no landing is answered, not refused: valid false, malformed', async () => {
    const res = await send('/v1/attribution/verify', { method: 'POST', key, json: { url: 'not a url' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ valid: false, reason: 'malformed' });
  });
});

describe('the whole file', () => {
  it('never answered a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
  });
});
