import { namespaceSnapshot } from '../helpers/snapshot.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGateway, type TestGateway } from '../helpers/app.js';

let gw: TestGateway;
let key: string;
/** A link of this merchant's that refusals must leave alone. */
let existing: { code: string; url: string; externalId: string; slug: string };
const statuses: Array<{ what: string; status: number }> = [];

const ITEM = 'https://item.taobao.com/item.htm?id=123';
const good = (extra: Record<string, unknown> = {}) => ({ url: ITEM, noteId: 'errors', category: 'beauty', ...extra });

beforeAll(async () => {
  gw = await testGateway();
  key = (await gw.merchant('Error paths')).apiKey;
  const slugged = await gw.mint(key, { noteId: 'errors', slug: 'taken-slug', externalId: 'ext-existing' });
  existing = { code: slugged.code, url: slugged.url, externalId: 'ext-existing', slug: 'taken-slug' };
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

const rawPost = (path: string, body: RequestInit['body'], contentType = 'application/json', method = 'POST') =>
  send(path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, body });

async function expectProblem(res: Response, status: number, type?: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  expect((body.detail as string).length).toBeGreaterThan(0);
  if (type !== undefined) expect(body.type).toBe(`https://hanglink.dev/problems/${type}`);
  return body;
}

const snapshot = () => namespaceSnapshot(gw.redis);

async function listingCount(): Promise<number> {
  const res = await send('/v1/links?limit=200', { key });
  expect(res.status).toBe(200);
  return ((await res.json()) as { links: unknown[] }).links.length;
}

/** Sends a request that must be refused, and checks the store did not change at all. */
async function refused(request: () => Promise<Response>, status: number, type?: string): Promise<Record<string, unknown>> {
  const before = await snapshot();
  const count = await listingCount();
  const body = await expectProblem(await request(), status, type);
  expect(await snapshot()).toEqual(before);
  expect(await listingCount()).toBe(count);
  return body;
}

const mint = (json: unknown) => send('/v1/links', { method: 'POST', key, json });
const bulk = (json: unknown) => send('/v1/links/bulk', { method: 'POST', key, json });
const patch = (code: string, json: unknown) => send(`/v1/links/${code}`, { method: 'PATCH', key, json });

async function existingUnchanged(): Promise<void> {
  const res = await send(`/v1/links/${existing.code}`, { key });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ code: existing.code, url: existing.url, status: 'active', expiresAt: null });
  const tap = await send(`/${existing.code}`);
  expect(tap.status).toBe(302);
  expect(tap.headers.get('location')).toMatch(/^https:\/\/item\.taobao\.com\/item\.htm\?id=123&/);
}

describe('POST /v1/links: destinations', () => {
  it.each([
    ['http', 'http://item.taobao.com/item.htm?id=1', 'invalid-destination'],
    ['a host not allowed', 'https://evil.example/item.htm?id=1', 'destination-not-allowed'],
    ['an allowed name as a subdomain of another host', 'https://item.taobao.com.evil.example/x', 'destination-not-allowed'],
    ['an allowed name as a suffix without the dot', 'https://eviltaobao.com/x', 'destination-not-allowed'],
    ['a trailing-dot host', 'https://item.taobao.com./x', 'destination-not-allowed'],
    ['user info hiding the real host', 'https://item.taobao.com@evil.example', 'invalid-destination'],
    ['user info and password', 'https://user:pass@item.taobao.com/x', 'invalid-destination'],
    ['javascript:', 'javascript:alert(document.cookie)', 'invalid-destination'],
    ['data:', 'data:text/html,<script>alert(1)</script>', 'invalid-destination'],
    ['ftp', 'ftp://item.taobao.com/x', 'invalid-destination'],
    ['a port', 'https://item.taobao.com:8443/x', 'invalid-destination'],
    ['a relative URL', '/item.htm?id=1', 'invalid-destination'],
    ['a scheme-relative URL', '//item.taobao.com/item.htm', 'invalid-destination'],
    ['a backslash', 'https://item.taobao.com\\@evil.example/', 'invalid-destination'],
    ['a percent-encoded host', 'https://item.taobao.com%2eevil.example/', 'invalid-destination'],
    ['leading whitespace', ' https://item.taobao.com/x', 'invalid-destination'],
    ['a newline', 'https://item.taobao.com/x\n', 'invalid-destination'],
    ['an empty string', '', 'invalid-destination'],
    ['attribution parameters of its own', 'https://item.taobao.com/item.htm?id=1&hl_cid=planted&hl_lid=other', 'invalid-destination'],
    ['over 2048 characters', `https://item.taobao.com/item.htm?id=${'1'.repeat(2048)}`, 'validation-failed'],
  ])('%s -> 400, nothing stored', async (_what, url, type) => {
    const body = await refused(() => mint(good({ url })), 400, type);
    if (type !== 'validation-failed') expect(body.field).toBe('url');
  });

  it.each([
    ['a number', 123],
    ['null', null],
    ['an object', { href: ITEM }],
  ])('url as %s -> 400', async (_what, url) => {
    await refused(() => mint(good({ url })), 400, 'validation-failed');
  });
});

describe('POST /v1/links: categories', () => {
  it('missing category -> 400', async () => {
    const { category: _omit, ...rest } = good();
    const body = await refused(() => mint(rest), 400, 'validation-failed');
    expect(body.detail).toMatch(/category/);
  });

  it.each([
    ['an unknown category', 'weapons'],
    ['a known one in another case', 'Beauty'],
    ['an empty string', ''],
    ['padded', ' beauty'],
  ])('%s -> 400 naming the open categories', async (_what, category) => {
    const body = await refused(() => mint(good({ category })), 400, 'category-not-open');
    expect(body.detail).toContain('beauty');
    expect(body.field).toBe('category');
  });

  it.each(['health-check', 'medical-device'])('the whitelist category %s without approval -> 403 with a clear reason', async (category) => {
    const body = await refused(() => mint(good({ category })), 403, 'category-not-approved');
    expect(body.detail).toContain(category);
    expect(body.detail).toMatch(/approv/i);
    expect(body).toMatchObject({ category, field: 'category' });
  });
});

describe('POST /v1/links: body', () => {
  it.each([
    ['truncated', '{"url": "https://item.taobao.com/item.htm?id=1", "noteId": "n"'],
    ['not JSON', 'url=https://item.taobao.com'],
    ['empty', ''],
    ['single quotes', "{'url': 'x'}"],
  ])('malformed JSON (%s) -> 400', async (_what, text) => {
    await refused(() => rawPost('/v1/links', text), 400);
  });

  it.each([
    ['an array', [good()]],
    ['null', null],
    ['a string', 'hello'],
  ])('a JSON body that is %s -> 400', async (_what, json) => {
    await refused(() => rawPost('/v1/links', JSON.stringify(json)), 400, 'validation-failed');
  });

  it('wrong content type -> 415', async () => {
    await refused(() => rawPost('/v1/links', JSON.stringify(good()), 'text/plain'), 415, 'unsupported-media-type');
  });

  it('a body over 64 KiB -> 413', async () => {
    const text = JSON.stringify(good({ campaignId: 'c'.repeat(65 * 1024) }));
    const body = await refused(() => rawPost('/v1/links', text), 413, 'body-too-large');
    expect(body.maxBytes).toBe(64 * 1024);
  });

  it('a body over 64 KiB that declares its length -> 413', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(good({ campaignId: 'c'.repeat(65 * 1024) })));
    await refused(
      () =>
        send('/v1/links', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(bytes.length) },
          body: bytes,
        }),
      413,
      'body-too-large',
    );
  });

  it.each([
    ['a misspelt noteId', { noteID: 'x' }],
    ['clicks', { clicks: 5 }],
    ['status', { status: 'paused' }],
    ['a merchant id', { merchantId: 'mer_someoneelse' }],
    ['a code', { code: 'mycode123' }],
  ])('an unknown field (%s) -> 400', async (_what, extra) => {
    const body = await refused(() => mint(good(extra)), 400, 'validation-failed');
    expect(body.detail).toMatch(/unrecognized|unknown/i);
  });

  it.each([
    ['url', { url: undefined }],
    ['noteId', { noteId: undefined }],
  ])('missing %s -> 400', async (field, extra) => {
    const body = await refused(() => mint(good(extra)), 400, 'validation-failed');
    expect(body.detail).toContain(field);
  });
});

describe('POST /v1/links: slugs', () => {
  it('a slug already taken -> 409, the holder unchanged', async () => {
    const body = await refused(() => mint(good({ slug: existing.slug, url: 'https://item.taobao.com/item.htm?id=666' })), 409, 'slug-taken');
    expect(body.field).toBe('slug');
    await existingUnchanged();
  });

  it.each([
    ['a space', 'my slug'],
    ['a dot', 'my.slug'],
    ['a slash', 'my/slug'],
    ['a non-ASCII letter', 'café-deal'],
    ['an emoji', 'deal-🔥'],
    ['a percent sign', 'deal%20'],
    ['two characters', 'ab'],
    ['65 characters', 'a'.repeat(65)],
    ['an empty string', ''],
  ])('a slug with %s -> 400', async (_what, slug) => {
    await refused(() => mint(good({ slug })), 400, 'validation-failed');
  });

  it.each(['healthz', 'readyz', 'admin', 'openapi', 'docs', 'HealthZ', 'ADMIN'])('the reserved slug %s -> refused', async (slug) => {
    const body = await refused(() => mint(good({ slug })), 409, 'slug-taken');
    expect(body.detail).toMatch(/reserved/);
  });
});

describe('POST /v1/links: ids', () => {
  it.each([
    ['noteId', 'note 1'],
    ['noteId', 'note/1'],
    ['noteId', 'note?x=1'],
    ['noteId', 'note#1'],
    ['noteId', 'note*'],
    ['noteId', 'ノート'],
    ['noteId', ''],
    ['noteId', 'n'.repeat(129)],
    ['campaignId', 'spring sale'],
    ['campaignId', ''],
    ['externalId', 'order{1}'],
    ['externalId', ''],
  ])('%s %j -> 400', async (field, value) => {
    const body = await refused(() => mint(good({ [field]: value })), 400, 'validation-failed');
    expect(body.detail).toContain(field);
  });
});

describe('POST /v1/links: expiry', () => {
  it.each([
    ['in the past', () => new Date(gw.clock.now - 60_000).toISOString(), 'invalid-expiry'],
    ['exactly now', () => new Date(gw.clock.now).toISOString(), 'invalid-expiry'],
    ['long ago', () => '2001-01-01T00:00:00Z', 'invalid-expiry'],
    ['not a date', () => 'tomorrow', 'validation-failed'],
    ['a date without a time', () => '2099-01-01', 'validation-failed'],
    ['an impossible month', () => '2099-13-01T00:00:00Z', 'validation-failed'],
    ['a time without a zone', () => '2099-01-01T00:00:00', 'validation-failed'],
    ['a number', () => 4102444800000, 'validation-failed'],
  ])('expiresAt %s -> 400', async (_what, expiresAt, type) => {
    await refused(() => mint(good({ expiresAt: expiresAt() })), 400, type);
  });
});

describe('POST /v1/links/bulk', () => {
  it.each([
    ['0 items', { items: [] }],
    ['1,001 items', { items: Array.from({ length: 1001 }, () => good()) }],
    ['no items field', {}],
    ['items not an array', { items: good() }],
    ['an unknown top-level field', { items: [good()], dryRun: true }],
    ['a bare array', [good()]],
  ])('%s -> 400 and nothing minted', async (_what, json) => {
    await refused(() => bulk(json), 400, 'validation-failed');
  });

  it('malformed JSON -> 400', async () => {
    await refused(() => rawPost('/v1/links/bulk', '{"items": [{'), 400);
  });

  it('wrong content type -> 415', async () => {
    await refused(() => rawPost('/v1/links/bulk', JSON.stringify({ items: [good()] }), 'text/plain'), 415, 'unsupported-media-type');
  });

  it('a body over 2 MiB -> 413', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => good({ url: `${ITEM}&n=${i}&pad=${'x'.repeat(2100)}` }));
    const text = JSON.stringify({ items });
    expect(text.length).toBeGreaterThan(2 * 1024 * 1024);
    const body = await refused(() => rawPost('/v1/links/bulk', text), 413, 'body-too-large');
    expect(body.maxBytes).toBe(2 * 1024 * 1024);
  });

  it('a body between 64 KiB and 2 MiB is accepted by bulk', async () => {
    const other = await gw.merchant('Big bulk');
    const items = Array.from({ length: 1000 }, (_, i) => ({ url: `${ITEM}&n=${i}&pad=${'x'.repeat(1400)}`, noteId: 'big', category: 'beauty' }));
    const text = JSON.stringify({ items });
    expect(text.length).toBeGreaterThan(1024 * 1024);
    expect(text.length).toBeLessThan(2 * 1024 * 1024);
    const res = await send('/v1/links/bulk', {
      method: 'POST',
      headers: { authorization: `Bearer ${other.apiKey}`, 'content-type': 'application/json' },
      body: text,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ created: 1000, existing: 0, failed: 0 });
  });

  it('mixed good and bad items: each bad one has its own problem, the good ones are created', async () => {
    const countBefore = await listingCount();
    const noteId = 'bulk-mixed';
    const items: unknown[] = [
      /* 0 */ good({ noteId, externalId: 'mixed-new-1' }),
      /* 1 */ good({ noteId, url: 'http://item.taobao.com/item.htm?id=1' }),
      /* 2 */ good({ noteId, category: 'health-check' }),
      /* 3 */ good({ noteId, slug: existing.slug }),
      /* 4 */ good({ noteId, externalId: existing.externalId }),
      /* 5 */ good({ noteId, colour: 'red' }),
      /* 6 */ 'not an object',
      /* 7 */ good({ noteId, url: 'https://detail.tmall.com/item.htm?id=7' }),
      /* 8 */ good({ noteId, expiresAt: '2001-01-01T00:00:00Z' }),
      /* 9 */ good({ noteId, slug: 'healthz' }),
      /* 10 */ good({ noteId, category: 'weapons' }),
      /* 11 */ good({ noteId, url: 'https://item.taobao.com@evil.example' }),
      /* 12 */ null,
      /* 13 */ good({ noteId: 'bad note' }),
    ];
    const res = await bulk({ items });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      created: number;
      existing: number;
      failed: number;
      results: Array<{ index: number; status: number; link?: { code: string; url: string }; error?: Record<string, unknown> }>;
    };
    const expected: Array<[number, string | null]> = [
      [201, null],
      [400, 'invalid-destination'],
      [403, 'category-not-approved'],
      [409, 'slug-taken'],
      [200, null],
      [400, 'validation-failed'],
      [400, 'validation-failed'],
      [201, null],
      [400, 'invalid-expiry'],
      [409, 'slug-taken'],
      [400, 'category-not-open'],
      [400, 'invalid-destination'],
      [400, 'validation-failed'],
      [400, 'validation-failed'],
    ];
    expect(body.results.map((r) => r.index)).toEqual(items.map((_, i) => i));
    expect(body.results.map((r) => r.status)).toEqual(expected.map(([status]) => status));
    expect({ created: body.created, existing: body.existing, failed: body.failed }).toEqual({ created: 2, existing: 1, failed: 11 });

    body.results.forEach((result, i) => {
      const [status, type] = expected[i] as [number, string | null];
      if (type === null) {
        expect(result.error).toBeUndefined();
        expect(result.link).toBeDefined();
      } else {
        expect(result.link).toBeUndefined();
        expect(result.error).toMatchObject({ status, type: `https://hanglink.dev/problems/${type}`, title: expect.any(String), detail: expect.any(String) });
      }
    });
    // The slug conflict says nothing about the link holding it.
    expect(Object.keys(body.results[3]?.error ?? {}).sort()).toEqual(['detail', 'field', 'status', 'title', 'type']);
    expect(JSON.stringify(body.results[3])).not.toContain(existing.externalId);
    expect(body.results[4]?.link?.code).toBe(existing.code);

    expect(await listingCount()).toBe(countBefore + 2);
    const listed = (await (await send('/v1/links?noteId=bulk-mixed', { key })).json()) as { links: Array<{ code: string }> };
    expect(listed.links.map((l) => l.code).sort()).toEqual([body.results[0]?.link?.code, body.results[7]?.link?.code].sort());
    await existingUnchanged();
  });

  it('two items asking for the same new slug: one is created, the other refused with 409', async () => {
    const countBefore = await listingCount();
    const res = await bulk({ items: [good({ slug: 'twin-slug' }), good({ slug: 'twin-slug', url: 'https://item.taobao.com/item.htm?id=2' })] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { created: number; failed: number; results: Array<{ status: number; error?: { type: string } }> };
    expect({ created: body.created, failed: body.failed }).toEqual({ created: 1, failed: 1 });
    expect(body.results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(body.results.find((r) => r.status === 409)?.error?.type).toBe('https://hanglink.dev/problems/slug-taken');
    expect(await listingCount()).toBe(countBefore + 1);
  });

  it('a batch where every item is bad mints nothing and still answers 200 per item', async () => {
    const before = await snapshot();
    const res = await bulk({ items: [good({ url: 'javascript:alert(1)' }), good({ category: 'medical-device' })] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ created: 0, existing: 0, failed: 2, results: [{ status: 400 }, { status: 403 }] });
    expect(await snapshot()).toEqual(before);
  });
});

describe('PATCH /v1/links/:code', () => {
  it.each([
    ['an empty body', {}, 'validation-failed'],
    ['a bad status', { status: 'archived' }, 'validation-failed'],
    ['status deleted (only DELETE deletes)', { status: 'deleted' }, 'validation-failed'],
    ['status in another case', { status: 'Paused' }, 'validation-failed'],
    ['a disallowed host', { url: 'https://evil.example/x' }, 'destination-not-allowed'],
    ['http', { url: 'http://item.taobao.com/x' }, 'invalid-destination'],
    ['javascript:', { url: 'javascript:alert(1)' }, 'invalid-destination'],
    ['user info', { url: 'https://item.taobao.com@evil.example' }, 'invalid-destination'],
    ['attribution parameters of its own', { url: 'https://item.taobao.com/item.htm?id=1&hl_nid=planted' }, 'invalid-destination'],
    ['a url that is null', { url: null }, 'validation-failed'],
    ['an expiry in the past', { expiresAt: '2001-01-01T00:00:00Z' }, 'invalid-expiry'],
    ['an expiry that is not a date', { expiresAt: 'soon' }, 'validation-failed'],
    ['a field that cannot change', { noteId: 'moved' }, 'validation-failed'],
    ['an unknown field', { colour: 'red' }, 'validation-failed'],
    ['a good change next to a bad one', { status: 'paused', url: 'https://evil.example/x' }, 'destination-not-allowed'],
  ])('%s -> 400, link unchanged', async (_what, json, type) => {
    await refused(() => patch(existing.code, json), 400, type);
    await existingUnchanged();
  });

  it('malformed JSON -> 400, link unchanged', async () => {
    await refused(() => rawPost(`/v1/links/${existing.code}`, '{"status":', 'application/json', 'PATCH'), 400);
    await existingUnchanged();
  });

  it('wrong content type -> 415, link unchanged', async () => {
    await refused(() => rawPost(`/v1/links/${existing.code}`, JSON.stringify({ status: 'paused' }), 'text/plain', 'PATCH'), 415);
    await existingUnchanged();
  });

  it('a code that does not exist -> 404', async () => {
    await refused(() => patch('NoSuchCode', { status: 'paused' }), 404, 'not-found');
  });

  it('a deleted link -> 410 and stays deleted', async () => {
    const link = await gw.mint(key, { noteId: 'to-delete' });
    expect((await send(`/v1/links/${link.code}`, { method: 'DELETE', key })).status).toBe(204);
    await refused(() => patch(link.code, { status: 'active' }), 410, 'link-deleted');
    const res = await send(`/v1/links/${link.code}`, { key });
    expect(await res.json()).toMatchObject({ status: 'deleted' });
    expect((await send(`/${link.code}`)).status).toBe(410);
  });
});

describe('GET and DELETE /v1/links/:code', () => {
  it.each(['NoSuchCode', 'x', 'a:b', 'has space', '%E2%9C%93', 'c'.repeat(300)])('GET %j that does not exist -> 404', async (code) => {
    await refused(() => send(`/v1/links/${encodeURIComponent(code)}`, { key }), 404, 'not-found');
  });

  it('DELETE a code that does not exist -> 404', async () => {
    await refused(() => send('/v1/links/NoSuchCode', { method: 'DELETE', key }), 404, 'not-found');
  });
});

describe('GET /v1/links', () => {
  let validCursor: string;

  beforeAll(async () => {
    await gw.mint(key, { noteId: 'cursor' });
    await gw.mint(key, { noteId: 'cursor' });
    const res = await send('/v1/links?noteId=cursor&limit=1', { key });
    validCursor = ((await res.json()) as { nextCursor: string }).nextCursor;
    expect(validCursor).toEqual(expect.any(String));
  });

  it.each([
    ['garbage', () => 'garbage'],
    ['not base64url', () => '!!!!'],
    ['base64 of something else', () => Buffer.from('{"offset":10}').toString('base64url')],
    ['base64 of a member with a bad code', () => Buffer.from('000000000000001:../x').toString('base64url')],
    ['padded base64', () => `${validCursor}==`],
    ['a real cursor with a character changed', () => `${validCursor.slice(0, -1)}${validCursor.endsWith('A') ? 'B' : 'A'}`],
    ['a real cursor cut short', () => validCursor.slice(0, 5)],
    ['empty', () => ''],
    ['over 200 characters', () => 'A'.repeat(201)],
  ])('an invalid cursor (%s) -> 400', async (_what, cursor) => {
    await refused(() => send(`/v1/links?cursor=${encodeURIComponent(cursor())}`, { key }), 400);
  });

  it.each(['0', '-1', '201', '1000000', '1.5', 'abc', '', '1e3', '1e1', '0x10', ' 5', '10.0', '+5', '050'])('limit=%j -> 400', async (limit) => {
    const body = await refused(() => send(`/v1/links?limit=${encodeURIComponent(limit)}`, { key }), 400);
    expect(body.detail).toMatch(/limit/);
  });

  it.each([
    ['noteId with a space', 'noteId=bad%20note'],
    ['empty noteId', 'noteId='],
    ['campaignId with a slash', 'campaignId=a%2Fb'],
    ['an unknown parameter', 'status=paused'],
    ['a misspelt parameter', 'noteID=x'],
  ])('%s -> 400', async (_what, query) => {
    await refused(() => send(`/v1/links?${query}`, { key }), 400, 'validation-failed');
  });

  it('names the query, not the body, when it refuses a parameter it does not know', async () => {
    const body = await refused(() => send('/v1/links?status=paused', { key }), 400, 'validation-failed');
    expect(body.detail).toMatch(/^query: /);
  });

  it('accepts the limits at the edges', async () => {
    expect((await send('/v1/links?limit=1', { key })).status).toBe(200);
    expect((await send('/v1/links?limit=200', { key })).status).toBe(200);
  });
});

describe('the whole file', () => {
  it('never answered a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(100);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
  });
});
