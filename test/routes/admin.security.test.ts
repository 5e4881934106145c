import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, testGateway, type TestGateway } from '../helpers/app.js';
import { namespaceSnapshot } from '../helpers/snapshot.js';

let gw: TestGateway;
let merchant: { id: string; apiKey: string };

beforeAll(async () => {
  gw = await testGateway();
  merchant = await gw.merchant('Security target');
});

afterAll(async () => {
  await gw.close();
});

const dumpNamespace = async () => new Map(Object.entries(await namespaceSnapshot(gw.redis)));


async function expectUnauthorized(res: Response): Promise<Record<string, unknown>> {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 401, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  return body;
}

type Credential = { name: string; authorization: () => string | undefined };

const credentials: Credential[] = [
  { name: 'no Authorization header', authorization: () => undefined },
  { name: 'an empty Authorization header', authorization: () => '' },
  { name: 'Bearer with no token', authorization: () => 'Bearer' },
  { name: 'Bearer and a blank', authorization: () => 'Bearer   ' },
  { name: 'the token without the Bearer scheme', authorization: () => ADMIN_TOKEN },
  { name: 'the token under the Basic scheme', authorization: () => `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
  { name: 'two tokens', authorization: () => `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` },
  { name: 'a wrong token', authorization: () => 'Bearer not-the-admin-token-at-all' },
  { name: 'the token with a character more', authorization: () => `Bearer ${ADMIN_TOKEN}x` },
  { name: 'the token missing its last character', authorization: () => `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
  { name: 'the token in another case', authorization: () => `Bearer ${ADMIN_TOKEN.toUpperCase()}` },
  { name: 'a very long token', authorization: () => `Bearer ${'a'.repeat(10_000)}` },
  { name: "a merchant's API key", authorization: () => `Bearer ${merchant.apiKey}` },
];

describe.each([
  { route: 'POST /v1/admin/merchants', method: 'POST', path: () => '/v1/admin/merchants', json: { name: 'Intruder Ltd' } },
  {
    route: 'PUT /v1/admin/merchants/:id/categories',
    method: 'PUT',
    path: () => `/v1/admin/merchants/${merchant.id}/categories`,
    json: { categories: ['health-check', 'medical-device'] },
  },
])('$route', ({ method, path, json }) => {
  it.each(credentials)('$name -> 401 with WWW-Authenticate, and nothing changes', async ({ authorization }) => {
    const before = await dumpNamespace();
    const value = authorization();
    const res = await gw.request(path(), {
      method,
      headers: { 'content-type': 'application/json', ...(value === undefined ? {} : { authorization: value }) },
      body: JSON.stringify(json),
    });
    const body = await expectUnauthorized(res);
    // A refusal never echoes what was offered.
    expect(JSON.stringify(body)).not.toContain(ADMIN_TOKEN);
    expect(JSON.stringify(body)).not.toContain(merchant.apiKey);
    expect(await dumpNamespace()).toEqual(before);
  });

  it('checks the token before the body: a bad body without a token is still 401', async () => {
    const res = await gw.request(path(), { method, headers: { 'content-type': 'text/plain' }, body: 'garbage' });
    await expectUnauthorized(res);
  });
});

describe('admin token', () => {
  it('is not accepted by the merchant API', async () => {
    await expectUnauthorized(await gw.request('/v1/links', { key: ADMIN_TOKEN }));
  });

  it('accepts the Bearer scheme in any case', async () => {
    const res = await gw.request('/v1/admin/merchants', {
      method: 'POST',
      headers: { authorization: `bearer ${ADMIN_TOKEN}` },
      json: { name: 'Lowercase scheme' },
    });
    expect(res.status).toBe(201);
  });
});

describe('API keys at rest', () => {
  it('stores only a hash of a created merchant key, never the key itself', async () => {
    const res = await gw.request('/v1/admin/merchants', { method: 'POST', key: ADMIN_TOKEN, json: { name: 'Key at rest' } });
    expect(res.status).toBe(201);
    const { id, apiKey } = (await res.json()) as { id: string; apiKey: string };
    // Give the key some use, so that anything a request might write is there too.
    expect((await gw.request('/v1/links', { key: apiKey })).status).toBe(200);
    await gw.mint(apiKey, { noteId: 'key-at-rest' });

    const dump = await dumpNamespace();
    expect(dump.size).toBeGreaterThan(0);
    // The scan does see this merchant, so an absent key is meaningful.
    expect([...dump.keys()].some((k) => k.includes(id))).toBe(true);
    const hash = createHash('sha256').update(apiKey).digest('hex');
    expect([...dump.keys()].some((k) => k.includes(hash)) || [...dump.values()].some((v) => v.includes(hash))).toBe(true);

    for (const secret of [apiKey, merchant.apiKey]) {
      for (const [key, value] of dump) {
        expect(key).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
    // Nor under a reversible encoding.
    for (const encoded of [Buffer.from(apiKey).toString('base64'), Buffer.from(apiKey).toString('hex')]) {
      for (const [key, value] of dump) {
        expect(key).not.toContain(encoded);
        expect(value).not.toContain(encoded);
      }
    }
  });

  it('never shows the key again: the approvals answer has no apiKey', async () => {
    const res = await gw.request(`/v1/admin/merchants/${merchant.id}/categories`, {
      method: 'PUT',
      key: ADMIN_TOKEN,
      json: { categories: [] },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(merchant.apiKey);
    expect(JSON.parse(text)).not.toHaveProperty('apiKey');
  });

  it('does not store the admin token either', async () => {
    for (const [key, value] of await dumpNamespace()) {
      expect(key).not.toContain(ADMIN_TOKEN);
      expect(value).not.toContain(ADMIN_TOKEN);
    }
  });
});
