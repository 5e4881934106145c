import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, testGateway, type TestGateway } from '../helpers/app.js';

let gw: TestGateway;
const statuses: Array<{ what: string; status: number }> = [];

beforeAll(async () => {
  gw = await testGateway();
});

afterAll(async () => {
  await gw.close();
});

/** Every request goes through here so that the file can check no answer was ever a 5xx. */
async function send(path: string, init: Parameters<TestGateway['request']>[1] = {}): Promise<Response> {
  const res = await gw.request(path, init);
  statuses.push({ what: `${init.method ?? 'GET'} ${path}`, status: res.status });
  return res;
}

async function expectProblem(res: Response, status: number, type?: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  expect((body.title as string).length).toBeGreaterThan(0);
  expect((body.detail as string).length).toBeGreaterThan(0);
  if (type !== undefined) expect(body.type).toBe(`https://hanglink.dev/problems/${type}`);
  return body;
}

/** How many merchants the test's namespace holds. */
async function merchantCount(): Promise<number> {
  const { redis, prefix } = gw.redis;
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}merchant:*`, 'COUNT', 500);
    count += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return count;
}

const raw = (path: string, method: string, body: RequestInit['body'], contentType?: string) =>
  send(path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
    body,
  });

describe('POST /v1/admin/merchants refusals', () => {
  const badBodies: Array<[string, unknown]> = [
    ['missing name', {}],
    ['empty name', { name: '' }],
    ['blank name', { name: '   ' }],
    ['name not a string', { name: 42 }],
    ['name null', { name: null }],
    ['name too long', { name: 'x'.repeat(201) }],
    ['unknown field', { name: 'Ok', apiKey: 'chosen-by-me' }],
    ['misspelt field', { Name: 'Ok' }],
    ['body an array', [{ name: 'Ok' }]],
    ['body null', null],
    ['body a string', 'Ok'],
  ];

  it.each(badBodies)('%s -> 400 and no merchant', async (_what, json) => {
    const before = await merchantCount();
    const res = await raw('/v1/admin/merchants', 'POST', JSON.stringify(json), 'application/json');
    await expectProblem(res, 400, 'validation-failed');
    expect(await merchantCount()).toBe(before);
  });

  it('names the offending field', async () => {
    const body = await expectProblem(await send('/v1/admin/merchants', { method: 'POST', key: ADMIN_TOKEN, json: {} }), 400);
    expect(body.detail).toMatch(/name/);
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'name' })]));
  });

  it.each([
    ['truncated', '{"name": "Acme"'],
    ['not JSON at all', 'name=Acme'],
    ['empty body', ''],
    ['trailing comma', '{"name": "Acme",}'],
  ])('malformed JSON (%s) -> 400 and no merchant', async (_what, text) => {
    const before = await merchantCount();
    await expectProblem(await raw('/v1/admin/merchants', 'POST', text, 'application/json'), 400);
    expect(await merchantCount()).toBe(before);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=xyz'],
    ['xml', 'application/xml'],
    ['look-alike', 'application/jsonp'],
  ])('wrong content type (%s) -> 415 and no merchant', async (_what, contentType) => {
    const before = await merchantCount();
    const res = await raw('/v1/admin/merchants', 'POST', JSON.stringify({ name: 'Acme' }), contentType);
    const body = await expectProblem(res, 415, 'unsupported-media-type');
    expect(body.detail).toMatch(/application\/json/);
    expect(await merchantCount()).toBe(before);
  });

  // These pass the gateway's own JSON check but not the request validator's; the refusal must look the same.
  it.each([
    ['a space before the parameters', 'application/json ; charset=utf-8'],
    ['an underscore in the structured suffix', 'application/vnd_acme+json'],
  ])('a JSON look-alike content type (%s) -> 415 with the same problem type', async (_what, contentType) => {
    const before = await merchantCount();
    const res = await raw('/v1/admin/merchants', 'POST', JSON.stringify({ name: 'Acme' }), contentType);
    await expectProblem(res, 415, 'unsupported-media-type');
    expect(await merchantCount()).toBe(before);
  });

  it('no content type at all -> 415', async () => {
    const before = await merchantCount();
    const res = await raw('/v1/admin/merchants', 'POST', new TextEncoder().encode(JSON.stringify({ name: 'Acme' })));
    await expectProblem(res, 415, 'unsupported-media-type');
    expect(await merchantCount()).toBe(before);
  });

  it('a body over 64 KiB -> 413 and no merchant', async () => {
    const before = await merchantCount();
    const res = await raw('/v1/admin/merchants', 'POST', JSON.stringify({ name: 'x'.repeat(70 * 1024) }), 'application/json');
    await expectProblem(res, 413, 'body-too-large');
    expect(await merchantCount()).toBe(before);
  });
});

describe('PUT /v1/admin/merchants/:id/categories refusals', () => {
  let merchantId: string;

  beforeAll(async () => {
    merchantId = (await gw.merchant('Approvals target')).id;
    const res = await send(`/v1/admin/merchants/${merchantId}/categories`, {
      method: 'PUT',
      key: ADMIN_TOKEN,
      json: { categories: ['health-check'] },
    });
    expect(res.status).toBe(200);
  });

  const approvals = async () => (await gw.store.getMerchant(merchantId))?.approvedCategories;

  it.each([
    ['an open category', ['beauty'], 'category-not-whitelisted'],
    ['an unknown category', ['weapons'], 'category-not-whitelisted'],
    ['a good and a bad one together', ['medical-device', 'beauty'], 'category-not-whitelisted'],
    ['a differently cased whitelist name', ['Health-Check'], 'category-not-whitelisted'],
  ])('approving %s -> 400, approvals unchanged', async (_what, categories, type) => {
    const res = await send(`/v1/admin/merchants/${merchantId}/categories`, { method: 'PUT', key: ADMIN_TOKEN, json: { categories } });
    const body = await expectProblem(res, 400, type);
    expect(body.detail).toContain(categories.find((c) => c !== 'medical-device'));
    expect(await approvals()).toEqual(['health-check']);
  });

  it.each([
    ['missing categories', {}],
    ['categories not an array', { categories: 'health-check' }],
    ['a category not a string', { categories: [1] }],
    ['unknown field', { categories: ['health-check'], merchantId: 'x' }],
    ['too many categories', { categories: Array.from({ length: 65 }, () => 'health-check') }],
  ])('%s -> 400, approvals unchanged', async (_what, json) => {
    const res = await send(`/v1/admin/merchants/${merchantId}/categories`, { method: 'PUT', key: ADMIN_TOKEN, json });
    await expectProblem(res, 400, 'validation-failed');
    expect(await approvals()).toEqual(['health-check']);
  });

  it('malformed JSON -> 400, approvals unchanged', async () => {
    const res = await raw(`/v1/admin/merchants/${merchantId}/categories`, 'PUT', '{"categories": [', 'application/json');
    await expectProblem(res, 400);
    expect(await approvals()).toEqual(['health-check']);
  });

  it('wrong content type -> 415, approvals unchanged', async () => {
    const res = await raw(`/v1/admin/merchants/${merchantId}/categories`, 'PUT', JSON.stringify({ categories: [] }), 'text/plain');
    await expectProblem(res, 415, 'unsupported-media-type');
    expect(await approvals()).toEqual(['health-check']);
  });

  it.each([
    ['a made-up id', 'mer_doesnotexist000000'],
    ['an id in the wrong shape', 'nobody'],
    ['an id with a colon', 'mer_x:y'],
  ])('%s -> 404 and no merchant appears', async (_what, id) => {
    const before = await merchantCount();
    const res = await send(`/v1/admin/merchants/${encodeURIComponent(id)}/categories`, {
      method: 'PUT',
      key: ADMIN_TOKEN,
      json: { categories: ['health-check'] },
    });
    await expectProblem(res, 404, 'not-found');
    expect(await merchantCount()).toBe(before);
    expect(await gw.store.getMerchant(id)).toBeNull();
  });

  it('an id over 64 characters -> 400', async () => {
    const res = await send(`/v1/admin/merchants/${'m'.repeat(65)}/categories`, {
      method: 'PUT',
      key: ADMIN_TOKEN,
      json: { categories: ['health-check'] },
    });
    await expectProblem(res, 400, 'validation-failed');
  });
});

describe('routes that do not exist', () => {
  it.each([
    ['GET', '/v1/admin/merchants'],
    ['DELETE', '/v1/admin/merchants/x'],
    ['POST', '/v1/admin/nothing'],
  ])('%s %s with the admin token -> a 4xx problem', async (method, path) => {
    const res = await send(path, { method, key: ADMIN_TOKEN, ...(method === 'POST' ? { json: {} } : {}) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('the whole file', () => {
  it('never answered a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
  });
});
