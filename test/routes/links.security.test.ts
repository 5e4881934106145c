import { namespaceSnapshot } from '../helpers/snapshot.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, testGateway, type TestGateway } from '../helpers/app.js';

type LinkBody = { code: string; url: string; status: string; noteId: string; campaignId: string | null; externalId: string | null; updatedAt: string; clicks: number };

let gw: TestGateway;
let merchantA: { id: string; apiKey: string };
let merchantB: { id: string; apiKey: string };
/** A's links: one per state a link can be in. */
let active: LinkBody;
let paused: LinkBody;
let deleted: LinkBody;

const A_URL = 'https://item.taobao.com/item.htm?id=424242';
const A_NOTE = 'shared-note';
const A_CAMPAIGN = 'shared-campaign';
const A_EXTERNAL = 'shared-external';
const A_SLUG = 'a-spring-serum';
const MISSING = 'NoSuchCod3';

beforeAll(async () => {
  gw = await testGateway();
  merchantA = await gw.merchant('Merchant A');
  merchantB = await gw.merchant('Merchant B');
  gw.clock.now += 1000;
  active = (await gw.mint(merchantA.apiKey, { url: A_URL, noteId: A_NOTE, campaignId: A_CAMPAIGN, externalId: A_EXTERNAL, slug: A_SLUG })) as unknown as LinkBody;
  gw.clock.now += 1000;
  paused = (await gw.mint(merchantA.apiKey, { url: A_URL, noteId: A_NOTE, campaignId: A_CAMPAIGN })) as unknown as LinkBody;
  expect((await gw.request(`/v1/links/${paused.code}`, { method: 'PATCH', key: merchantA.apiKey, json: { status: 'paused' } })).status).toBe(200);
  paused = (await (await gw.request(`/v1/links/${paused.code}`, { key: merchantA.apiKey })).json()) as LinkBody;
  gw.clock.now += 1000;
  deleted = (await gw.mint(merchantA.apiKey, { url: A_URL, noteId: A_NOTE, campaignId: A_CAMPAIGN })) as unknown as LinkBody;
  expect((await gw.request(`/v1/links/${deleted.code}`, { method: 'DELETE', key: merchantA.apiKey })).status).toBe(204);
  deleted = (await (await gw.request(`/v1/links/${deleted.code}`, { key: merchantA.apiKey })).json()) as LinkBody;
  // B has links of its own under the same note and campaign names.
  gw.clock.now += 1000;
  await gw.mint(merchantB.apiKey, { noteId: A_NOTE, campaignId: A_CAMPAIGN });
  await gw.mint(merchantB.apiKey, { noteId: 'b-only' });
});

afterAll(async () => {
  await gw.close();
});

const snapshot = () => namespaceSnapshot(gw.redis);

async function readAsA(code: string): Promise<LinkBody> {
  const res = await gw.request(`/v1/links/${code}`, { key: merchantA.apiKey });
  expect(res.status).toBe(200);
  return (await res.json()) as LinkBody;
}

/** A's links are exactly as they were set up, and the active one still redirects to A's item. */
async function aUntouched(): Promise<void> {
  // Taps made by these checks count as clicks, so the count is the one field allowed to move.
  const withoutClicks = ({ clicks: _clicks, ...rest }: LinkBody) => rest;
  expect(withoutClicks(await readAsA(active.code))).toEqual(withoutClicks(active));
  expect(await readAsA(paused.code)).toEqual(paused);
  expect(await readAsA(deleted.code)).toEqual(deleted);
  const tap = await gw.request(`/${active.code}`);
  expect(tap.status).toBe(302);
  expect(tap.headers.get('location')?.startsWith(`${A_URL}&`)).toBe(true);
  expect((await gw.request(`/${paused.code}`)).status).toBe(410);
  expect((await gw.request(`/${deleted.code}`)).status).toBe(410);
}

async function problemOf(res: Response): Promise<{ status: number; contentType: string | null; body: Record<string, unknown> }> {
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: res.status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  return { status: res.status, contentType: res.headers.get('content-type'), body };
}

const ITEM = 'https://item.taobao.com/item.htm?id=1';
const newLink = { url: ITEM, noteId: 'intruder', category: 'beauty' };

/** Every merchant endpoint, pointed at A's active link where it takes a code. */
const endpoints: Array<{ name: string; method: string; path: () => string; json?: unknown }> = [
  { name: 'POST /v1/links', method: 'POST', path: () => '/v1/links', json: newLink },
  { name: 'POST /v1/links/bulk', method: 'POST', path: () => '/v1/links/bulk', json: { items: [newLink] } },
  { name: 'GET /v1/links', method: 'GET', path: () => '/v1/links' },
  { name: 'GET /v1/links?noteId', method: 'GET', path: () => `/v1/links?noteId=${A_NOTE}` },
  { name: 'GET /v1/links/:code', method: 'GET', path: () => `/v1/links/${active.code}` },
  { name: 'PATCH /v1/links/:code', method: 'PATCH', path: () => `/v1/links/${active.code}`, json: { url: 'https://item.taobao.com/item.htm?id=666', status: 'paused' } },
  { name: 'DELETE /v1/links/:code', method: 'DELETE', path: () => `/v1/links/${active.code}` },
];

const credentials: Array<{ name: string; authorization: () => string | undefined }> = [
  { name: 'no Authorization header', authorization: () => undefined },
  { name: 'an empty header', authorization: () => '' },
  { name: 'Bearer without a key', authorization: () => 'Bearer' },
  { name: 'the key without a scheme', authorization: () => merchantA.apiKey },
  { name: 'the key under Basic', authorization: () => `Basic ${Buffer.from(`${merchantA.apiKey}:`).toString('base64')}` },
  { name: 'the key under another scheme', authorization: () => `Token ${merchantA.apiKey}` },
  { name: 'two keys', authorization: () => `Bearer ${merchantA.apiKey} ${merchantB.apiKey}` },
  { name: 'a made-up key', authorization: () => 'Bearer hlk_0000000000000000000000000000000000000000' },
  { name: "A's key with a character more", authorization: () => `Bearer ${merchantA.apiKey}x` },
  { name: "A's key cut short", authorization: () => `Bearer ${merchantA.apiKey.slice(0, -1)}` },
  { name: 'a key of 10,000 characters', authorization: () => `Bearer ${'k'.repeat(10_000)}` },
  { name: 'the admin token', authorization: () => `Bearer ${ADMIN_TOKEN}` },
];

describe.each(endpoints)('$name', ({ method, path, json }) => {
  it.each(credentials)('with $name -> 401 problem, nothing changes', async ({ authorization }) => {
    const before = await snapshot();
    const value = authorization();
    const headers: Record<string, string> = {};
    if (value !== undefined) headers.authorization = value;
    if (json !== undefined) headers['content-type'] = 'application/json';
    const res = await gw.request(path(), { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const { body } = await problemOf(res);
    expect(body.type).toBe('https://hanglink.dev/problems/unauthorized');
    const text = JSON.stringify(body);
    for (const secret of [merchantA.apiKey, merchantB.apiKey, ADMIN_TOKEN, A_URL, merchantA.id]) expect(text).not.toContain(secret);
    expect(await snapshot()).toEqual(before);
  });
});

describe("another merchant's link", () => {
  const byCode: Array<{ name: string; method: string; json?: unknown }> = [
    { name: 'GET', method: 'GET' },
    { name: 'PATCH url and status', method: 'PATCH', json: { url: 'https://item.taobao.com/item.htm?id=666', status: 'paused' } },
    { name: 'PATCH resume', method: 'PATCH', json: { status: 'active' } },
    { name: 'PATCH expiry', method: 'PATCH', json: { expiresAt: '2099-01-01T00:00:00Z' } },
    { name: 'PATCH with a bad body', method: 'PATCH', json: {} },
    { name: 'DELETE', method: 'DELETE' },
  ];
  const states = [
    { state: 'active', link: () => active },
    { state: 'paused', link: () => paused },
    { state: 'deleted', link: () => deleted },
  ];

  describe.each(states)("A's $state link", ({ link }) => {
    it.each(byCode)("$name with B's key answers exactly as for a code that does not exist, and changes nothing", async ({ method, json }) => {
      const ask = (code: string) => gw.request(`/v1/links/${code}`, { method, key: merchantB.apiKey, ...(json === undefined ? {} : { json }) });
      const before = await snapshot();
      const missing = await ask(MISSING);
      const theirs = await ask(link().code);

      expect(theirs.status).toBe(missing.status);
      expect(theirs.status).toBeGreaterThanOrEqual(400);
      expect(theirs.status).toBeLessThan(500);
      if (json === undefined || Object.keys(json as object).length > 0) expect(theirs.status).toBe(404);
      // The RateLimit fields describe B's own budget, which each request spends: the rest must match.
      const objectHeaders = (res: Response) => [...res.headers.entries()].filter(([name]) => !name.startsWith('ratelimit-')).sort();
      expect(objectHeaders(theirs)).toEqual(objectHeaders(missing));
      expect(await theirs.text()).toBe(await missing.text());

      expect(await snapshot()).toEqual(before);
      await aUntouched();
    });
  });

  it("B's GET answer carries nothing of A's link", async () => {
    const text = await (await gw.request(`/v1/links/${active.code}`, { key: merchantB.apiKey })).text();
    for (const secret of [A_URL, A_NOTE, A_CAMPAIGN, A_EXTERNAL, merchantA.id, 'Merchant A']) expect(text).not.toContain(secret);
  });

  it('no link answer ever shows which merchant owns it', async () => {
    const res = await gw.request(`/v1/links/${active.code}`, { key: merchantA.apiKey });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('merchantId');
    expect(JSON.stringify(body)).not.toContain(merchantA.id);
  });
});

describe("B's listing", () => {
  const aCodes = () => [active.code, paused.code, deleted.code];

  async function walk(query: string, apiKey = merchantB.apiKey): Promise<LinkBody[]> {
    const links: LinkBody[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const sep = query === '' ? '' : '&';
      const res = await gw.request(`/v1/links?${query}${cursor === null ? '' : `${sep}cursor=${cursor}`}`, { key: apiKey });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { links: LinkBody[]; nextCursor: string | null };
      links.push(...page.links);
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    return links;
  }

  it.each([
    ['no filter', ''],
    ["A's note", `noteId=${A_NOTE}`],
    ["A's campaign", `campaignId=${A_CAMPAIGN}`],
    ["A's note and campaign", `noteId=${A_NOTE}&campaignId=${A_CAMPAIGN}`],
    ['pages of one', 'limit=1'],
    ["A's note, pages of one", `noteId=${A_NOTE}&limit=1`],
  ])('with %s shows only B links', async (_what, query) => {
    const links = await walk(query);
    for (const link of links) {
      expect(aCodes()).not.toContain(link.code);
      expect(link.url).not.toBe(A_URL);
      expect(link.externalId).not.toBe(A_EXTERNAL);
    }
    if (query.includes(A_NOTE) || query.includes(A_CAMPAIGN)) expect(links).toHaveLength(1);
  });

  it("A's own listing shows A's live links and none of B's", async () => {
    const links = await walk(`noteId=${A_NOTE}`, merchantA.apiKey);
    expect(links.map((l) => l.code).sort()).toEqual([active.code, paused.code].sort());
  });

  it("a cursor from A's listing shows B nothing of A's", async () => {
    const res = await gw.request(`/v1/links?noteId=${A_NOTE}&limit=1`, { key: merchantA.apiKey });
    const { nextCursor } = (await res.json()) as { nextCursor: string | null };
    expect(nextCursor).toEqual(expect.any(String));
    const page = await gw.request(`/v1/links?cursor=${nextCursor}`, { key: merchantB.apiKey });
    expect(page.status).toBeLessThan(500);
    if (page.status === 200) {
      const { links } = (await page.json()) as { links: LinkBody[] };
      for (const link of links) expect(aCodes()).not.toContain(link.code);
    }
  });
});

describe("B reusing A's names", () => {
  it("minting with A's externalId creates B's own link, and repeating it returns B's", async () => {
    const first = await gw.request('/v1/links', { method: 'POST', key: merchantB.apiKey, json: { ...newLink, externalId: A_EXTERNAL } });
    expect(first.status).toBe(201);
    const mine = (await first.json()) as LinkBody;
    expect(mine.code).not.toBe(active.code);
    expect(mine).toMatchObject({ url: ITEM, noteId: 'intruder', externalId: A_EXTERNAL });

    const again = await gw.request('/v1/links', { method: 'POST', key: merchantB.apiKey, json: { ...newLink, externalId: A_EXTERNAL } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as LinkBody).code).toBe(mine.code);

    // A's externalId still names A's link for A.
    const forA = await gw.request('/v1/links', { method: 'POST', key: merchantA.apiKey, json: { ...newLink, externalId: A_EXTERNAL } });
    expect(forA.status).toBe(200);
    expect(await forA.json()).toMatchObject({ code: active.code, url: A_URL, noteId: A_NOTE, externalId: A_EXTERNAL });
    await aUntouched();
  });

  it("bulk minting with A's externalId does the same", async () => {
    const res = await gw.request('/v1/links/bulk', {
      method: 'POST',
      key: merchantB.apiKey,
      json: { items: [{ ...newLink, externalId: `${A_EXTERNAL}` }, { ...newLink, noteId: 'bulk-b', externalId: 'only-b' }] },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<{ status: number; link?: LinkBody }> };
    // The first item's externalId was taken by B in the test above, so it is B's existing link.
    expect(body.results[0]?.status).toBe(200);
    expect(body.results[0]?.link?.code).not.toBe(active.code);
    expect(body.results[0]?.link?.url).toBe(ITEM);
    expect(body.results[1]?.status).toBe(201);
    await aUntouched();
  });

  it("a fresh merchant's bulk with A's externalId creates its own link", async () => {
    const c = await gw.merchant('Merchant C');
    const res = await gw.request('/v1/links/bulk', { method: 'POST', key: c.apiKey, json: { items: [{ ...newLink, externalId: A_EXTERNAL }] } });
    const body = (await res.json()) as { created: number; results: Array<{ status: number; link?: LinkBody }> };
    expect(body.created).toBe(1);
    expect(body.results[0]?.status).toBe(201);
    expect(body.results[0]?.link?.code).not.toBe(active.code);
    await aUntouched();
  });

  it("taking A's slug is refused with 409 and reveals nothing of A's link", async () => {
    const before = await snapshot();
    const res = await gw.request('/v1/links', {
      method: 'POST',
      key: merchantB.apiKey,
      json: { ...newLink, slug: A_SLUG, externalId: 'b-wants-the-slug' },
    });
    expect(res.status).toBe(409);
    const { body } = await problemOf(res);
    expect(body.type).toBe('https://hanglink.dev/problems/slug-taken');
    expect(Object.keys(body).sort()).toEqual(['detail', 'field', 'status', 'title', 'type']);
    const text = JSON.stringify(body);
    for (const secret of [A_URL, A_NOTE, A_CAMPAIGN, A_EXTERNAL, merchantA.id, 'Merchant A']) expect(text).not.toContain(secret);
    expect(await snapshot()).toEqual(before);
    await aUntouched();
  });

  it("taking A's slug in a bulk is refused per item and reveals nothing of A's link", async () => {
    const res = await gw.request('/v1/links/bulk', { method: 'POST', key: merchantB.apiKey, json: { items: [{ ...newLink, slug: A_SLUG }] } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { failed: number; results: Array<{ status: number; link?: unknown; error?: Record<string, unknown> }> };
    expect(body.failed).toBe(1);
    expect(body.results[0]?.status).toBe(409);
    expect(body.results[0]?.link).toBeUndefined();
    const text = JSON.stringify(body);
    for (const secret of [A_URL, A_NOTE, A_CAMPAIGN, A_EXTERNAL, merchantA.id]) expect(text).not.toContain(secret);
    await aUntouched();
  });

  it("A's clicks stay A's: B's taps on its own links do not count on A's", async () => {
    const own = await gw.mint(merchantB.apiKey, { noteId: 'b-clicks' });
    await gw.clicks.flush();
    const before = (await readAsA(active.code)).clicks;
    expect((await gw.request(`/${own.code}`)).status).toBe(302);
    await gw.clicks.flush();
    expect((await readAsA(active.code)).clicks).toBe(before);
    const ownNow = (await (await gw.request(`/v1/links/${own.code}`, { key: merchantB.apiKey })).json()) as LinkBody;
    expect(ownNow.clicks).toBe(1);
  });
});
