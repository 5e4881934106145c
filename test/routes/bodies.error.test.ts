import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, testGateway, type TestGateway } from '../helpers/app.js';
import { namespaceSnapshot } from '../helpers/snapshot.js';

/**
 * What every JSON API route does with a body nested too deeply: a 400 problem before any validator
 * looks at it, and nothing stored changes. Bodies at the bound still reach the validators.
 */

let gw: TestGateway;
let key: string;
let merchantId: string;
let code: string;
let clickId: string;

const ITEM = 'https://item.taobao.com/item.htm?id=123';
const good = { url: ITEM, noteId: 'deep', category: 'beauty' };

/** `{"a":{"a":...}}`, `depth` objects deep. */
const deep = (depth: number): unknown => (depth <= 1 ? {} : { a: deep(depth - 1) });

beforeAll(async () => {
  gw = await testGateway();
  const m = await gw.merchant('Deep bodies');
  key = m.apiKey;
  merchantId = m.id;
  code = (await gw.mint(key, { noteId: 'deep', campaignId: 'deep-campaign' })).code;
  const tap = await gw.request(`/${code}`);
  clickId = new URL(tap.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '';
  await gw.flush();
  const ordered = await gw.request('/v1/conversions', { method: 'POST', key, json: { clickId, orderId: 'deep-order', amount: 100, currency: 'CNY' } });
  expect(ordered.status).toBe(201);
});

afterAll(async () => {
  await gw.close();
});

async function expectProblem(res: Response, status: number, type: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: `https://hanglink.dev/problems/${type}`, title: expect.any(String), detail: expect.any(String) });
  return body;
}

async function refused(request: () => Promise<Response>, status: number, type: string): Promise<Record<string, unknown>> {
  const before = await namespaceSnapshot(gw.redis);
  const body = await expectProblem(await request(), status, type);
  await gw.flush();
  expect(await namespaceSnapshot(gw.redis)).toEqual(before);
  return body;
}

const WRITES: Array<[what: string, method: string, path: () => string, body: (deepPart: unknown) => unknown, auth: () => string]> = [
  ['POST /v1/links', 'POST', () => '/v1/links', (d) => ({ ...good, slug: 'deep-slug', extra: d }), () => key],
  ['POST /v1/links/bulk', 'POST', () => '/v1/links/bulk', (d) => ({ items: [good, d] }), () => key],
  ['PATCH /v1/links/:code', 'PATCH', () => `/v1/links/${code}`, (d) => ({ status: 'paused', more: d }), () => key],
  ['POST /v1/conversions', 'POST', () => '/v1/conversions', (d) => ({ clickId, orderId: 'deep-2', amount: 1, currency: 'CNY', d }), () => key],
  ['POST /v1/conversions/:id/refund', 'POST', () => '/v1/conversions/deep-order/refund', (d) => ({ amount: 1, d }), () => key],
  ['PUT /v1/campaigns/:id/spend', 'PUT', () => '/v1/campaigns/deep-campaign/spend', (d) => ({ amount: 5, currency: 'CNY', d }), () => key],
  ['POST /v1/attribution/verify', 'POST', () => '/v1/attribution/verify', (d) => ({ url: ITEM, d }), () => key],
  ['POST /v1/admin/merchants', 'POST', () => '/v1/admin/merchants', (d) => ({ name: 'Deep', d }), () => ADMIN_TOKEN],
  ['PUT /v1/admin/merchants/:id/categories', 'PUT', () => `/v1/admin/merchants/${merchantId}/categories`, (d) => ({ categories: ['health-check'], d }), () => ADMIN_TOKEN],
];

describe('a JSON body nested deeper than 32', () => {
  it.each(WRITES)('%s -> 400 json-too-deep, nothing changes', async (_what, method, path, body, auth) => {
    const problem = await refused(() => gw.request(path(), { method, key: auth(), json: body(deep(40)) }), 400, 'json-too-deep');
    expect(problem.maxDepth).toBe(32);
  });

  it('a bulk whose one bad item is too deep mints none of the good ones', async () => {
    const items = [...Array.from({ length: 5 }, (_, i) => ({ ...good, noteId: `deep-bulk-${i}` })), deep(33)];
    await refused(() => gw.request('/v1/links/bulk', { method: 'POST', key, json: { items } }), 400, 'json-too-deep');
  });

  it('tens of thousands of levels are refused as cheaply', async () => {
    const text = '['.repeat(30_000) + ']'.repeat(30_000);
    await refused(
      () => gw.request('/v1/links', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: text }),
      400,
      'json-too-deep',
    );
  });

  it('a bulk body of a million levels, under its 2 MiB limit, is refused too', async () => {
    const text = `{"items":[${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}]}`;
    await refused(
      () => gw.request('/v1/links/bulk', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: text }),
      400,
      'json-too-deep',
    );
  });
});

describe('bodies within the bound', () => {
  it('brackets inside strings do not count', async () => {
    const res = await gw.request('/v1/attribution/verify', { method: 'POST', key, json: { url: `${ITEM}&q=${'['.repeat(100)}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ valid: false });
  });

  it('a body 32 deep reaches the validators, which name the unknown field', async () => {
    await refused(() => gw.request('/v1/links', { method: 'POST', key, json: { ...good, extra: deep(31) } }), 400, 'validation-failed');
  });
});
