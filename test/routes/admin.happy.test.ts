import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, CATEGORIES, testGateway, type TestGateway } from '../helpers/app.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await testGateway();
});

afterAll(async () => {
  await gw.close();
});

const createMerchant = (name: string) =>
  gw.request('/v1/admin/merchants', { method: 'POST', key: ADMIN_TOKEN, json: { name } });

const approve = (id: string, categories: string[]) =>
  gw.request(`/v1/admin/merchants/${id}/categories`, { method: 'PUT', key: ADMIN_TOKEN, json: { categories } });

describe('POST /v1/admin/merchants', () => {
  it('creates a merchant and shows its API key once', async () => {
    gw.clock.now = Date.parse('2031-05-06T07:08:09.000Z');
    const res = await createMerchant('Acme Beauty');
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    // It carries the key: no cache may keep it.
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['apiKey', 'approvedCategories', 'createdAt', 'currency', 'id', 'name']);
    expect(body).toMatchObject({ name: 'Acme Beauty', approvedCategories: [], currency: 'CNY', createdAt: '2031-05-06T07:08:09.000Z' });
    expect(body.id).toEqual(expect.any(String));
    expect(body.apiKey).toEqual(expect.any(String));
    expect((body.apiKey as string).length).toBeGreaterThanOrEqual(32);
  });

  it('trims the name', async () => {
    const res = await createMerchant('  Spaced Out  ');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'Spaced Out' });
  });

  it('gives every merchant its own id and key', async () => {
    const a = await gw.merchant('Same name');
    const b = await gw.merchant('Same name');
    expect(a.id).not.toBe(b.id);
    expect(a.apiKey).not.toBe(b.apiKey);
  });

  it('issues a key that works on the merchant API at once', async () => {
    const { apiKey } = await gw.merchant('Works at once');
    const res = await gw.request('/v1/links', { key: apiKey });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ links: [], nextCursor: null });
  });

  it('accepts a JSON content type with a charset', async () => {
    const res = await gw.request('/v1/admin/merchants', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ name: 'Charset' }),
    });
    expect(res.status).toBe(201);
  });
});

describe('PUT /v1/admin/merchants/:id/categories', () => {
  it('approves whitelist categories, sorted and without duplicates', async () => {
    const { id } = await gw.merchant('Clinic supplies');
    const res = await approve(id, ['medical-device', 'health-check', 'medical-device']);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id, name: 'Clinic supplies', approvedCategories: ['health-check', 'medical-device'] });
    expect(body).not.toHaveProperty('apiKey');
  });

  it('replaces the approvals, and an empty list withdraws them all', async () => {
    const { id } = await gw.merchant('Changing approvals');
    expect(await (await approve(id, ['health-check'])).json()).toMatchObject({ approvedCategories: ['health-check'] });
    expect(await (await approve(id, ['medical-device'])).json()).toMatchObject({ approvedCategories: ['medical-device'] });
    expect(await (await approve(id, [])).json()).toMatchObject({ approvedCategories: [] });
  });

  it('lets an approved merchant mint in the category, and a withdrawn one no longer', async () => {
    const { id, apiKey } = await gw.merchant('Approval effect');
    const mint = () =>
      gw.request('/v1/links', {
        method: 'POST',
        key: apiKey,
        json: { url: 'https://item.taobao.com/item.htm?id=9', noteId: 'n1', category: 'health-check' },
      });

    expect((await mint()).status).toBe(403);
    expect((await approve(id, ['health-check'])).status).toBe(200);
    const minted = await mint();
    expect(minted.status).toBe(201);
    expect(await minted.json()).toMatchObject({ category: 'health-check' });

    expect((await approve(id, [])).status).toBe(200);
    expect((await mint()).status).toBe(403);
  });

  it('approves every whitelist category at once', async () => {
    const { id } = await gw.merchant('All of them');
    const res = await approve(id, [...CATEGORIES.whitelist]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ approvedCategories: [...CATEGORIES.whitelist].sort() });
  });
});

describe('merchant currency', () => {
  it('takes the currency orders and spend will be in, CNY unless named', async () => {
    const res = await gw.request('/v1/admin/merchants', { method: 'POST', key: ADMIN_TOKEN, json: { name: 'HK shop', currency: 'HKD' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ currency: 'HKD' });
  });

  it('refuses a currency that is not an ISO 4217 code', async () => {
    const res = await gw.request('/v1/admin/merchants', { method: 'POST', key: ADMIN_TOKEN, json: { name: 'x', currency: 'yuan' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});
