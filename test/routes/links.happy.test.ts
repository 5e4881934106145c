import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, PUBLIC_URL, testGateway, type TestGateway } from '../helpers/app.js';

let gw: TestGateway;
let key: string;

type LinkBody = {
  code: string;
  shortUrl: string;
  url: string;
  noteId: string;
  campaignId: string | null;
  category: string;
  externalId: string | null;
  expiresAt: string | null;
  status: 'active' | 'paused' | 'deleted';
  createdAt: string;
  updatedAt: string;
  clicks: number;
};
type ListBody = { links: LinkBody[]; nextCursor: string | null };

const LINK_FIELDS = ['android', 'appUrl', 'campaignId', 'category', 'clicks', 'code', 'createdAt', 'desktop', 'expiresAt', 'externalId', 'ios', 'maxClicks', 'noteId', 'shortUrl', 'status', 'updatedAt', 'url'];
const ITEM = 'https://item.taobao.com/item.htm?id=123';

beforeAll(async () => {
  gw = await testGateway();
  key = (await gw.merchant('Happy path')).apiKey;
});

afterAll(async () => {
  await gw.close();
});

/** The gateway's clock only moves forward here, so creation order is listing order. */
const advance = (ms = 1000) => {
  gw.clock.now += ms;
  return new Date(gw.clock.now).toISOString();
};

let uniq = 0;
const unique = (stem: string) => `${stem}-${Date.now().toString(36)}-${++uniq}`;

async function post(path: string, json: unknown, apiKey = key): Promise<Response> {
  return gw.request(path, { method: 'POST', key: apiKey, json });
}

async function list(query: Record<string, string | number>, apiKey = key): Promise<ListBody> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const res = await gw.request(`/v1/links${qs === '' ? '' : `?${qs}`}`, { key: apiKey });
  expect(res.status).toBe(200);
  return (await res.json()) as ListBody;
}

/** Walks every page and returns the codes in order, with how many pages it took. */
async function listAll(query: Record<string, string | number>): Promise<{ codes: string[]; pages: number[] }> {
  const codes: string[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const page: ListBody = await list(cursor === null ? query : { ...query, cursor });
    codes.push(...page.links.map((l) => l.code));
    pages.push(page.links.length);
    cursor = page.nextCursor;
    expect(pages.length).toBeLessThan(50);
  } while (cursor !== null);
  return { codes, pages };
}

async function tap(code: string, init: RequestInit = {}): Promise<Response> {
  return gw.request(`/${code}`, init);
}

async function getLink(code: string): Promise<LinkBody> {
  const res = await gw.request(`/v1/links/${code}`, { key });
  expect(res.status).toBe(200);
  return (await res.json()) as LinkBody;
}

async function patch(code: string, json: unknown): Promise<Response> {
  return gw.request(`/v1/links/${code}`, { method: 'PATCH', key, json });
}

/** The item the redirect sends the shopper to, without the attribution parameters. */
function destinationOf(res: Response): { origin: string; path: string; id: string | null } {
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location') as string);
  return { origin: location.origin, path: location.pathname, id: location.searchParams.get('id') };
}

describe('POST /v1/links', () => {
  it('mints a link and echoes every field', async () => {
    const createdAt = advance();
    const externalId = unique('ext');
    const res = await post('/v1/links', {
      url: 'https://detail.tmall.com/item.htm?id=555&sku=9#reviews',
      noteId: 'note:2024.spring_01',
      category: 'mother-baby',
      campaignId: 'spring-sale',
      expiresAt: '2099-12-31T23:59:59+08:00',
      externalId,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const link = (await res.json()) as LinkBody;
    expect(Object.keys(link).sort()).toEqual(LINK_FIELDS);
    expect(link).toEqual({
      code: expect.stringMatching(/^[A-Za-z0-9]{8}$/),
      shortUrl: `${PUBLIC_URL}/${link.code}`,
      url: 'https://detail.tmall.com/item.htm?id=555&sku=9#reviews',
      noteId: 'note:2024.spring_01',
      category: 'mother-baby',
      campaignId: 'spring-sale',
      externalId,
      expiresAt: '2099-12-31T15:59:59.000Z',
      appUrl: null,
      ios: null,
      android: null,
      desktop: null,
      maxClicks: null,
      status: 'active',
      createdAt,
      updatedAt: createdAt,
      clicks: 0,
    });
    expect(link.shortUrl).toBe(`https://go.example.test/${link.code}`);
  });

  it('mints with only the required fields, the rest null', async () => {
    advance();
    const res = await post('/v1/links', { url: ITEM, noteId: 'minimal', category: 'beauty' });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ url: ITEM, noteId: 'minimal', category: 'beauty', campaignId: null, externalId: null, expiresAt: null, status: 'active', clicks: 0 });
  });

  it.each(['beauty', 'mother-baby', 'personal-care', 'sports-outdoor', 'home-cleaning', 'nutrition', 'health-food'])(
    'mints in the open category %s',
    async (category) => {
      const res = await post('/v1/links', { url: ITEM, noteId: 'open-cats', category });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ category });
    },
  );

  it('gives every link its own code', async () => {
    const a = await gw.mint(key, { noteId: 'two-codes' });
    const b = await gw.mint(key, { noteId: 'two-codes' });
    expect(a.code).not.toBe(b.code);
  });

  it('returns the same link for the same externalId, with 200, and never mints a second one', async () => {
    const noteId = unique('idem');
    const externalId = unique('order');
    advance();
    const first = await post('/v1/links', { url: ITEM, noteId, category: 'beauty', externalId });
    expect(first.status).toBe(201);
    const firstLink = (await first.json()) as LinkBody;

    advance();
    const again = await post('/v1/links', { url: ITEM, noteId, category: 'beauty', externalId });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(firstLink);

    // Even when the rest of the request differs, the first link comes back unchanged.
    const different = await post('/v1/links', {
      url: 'https://item.taobao.com/item.htm?id=999',
      noteId,
      category: 'nutrition',
      campaignId: 'other',
      externalId,
    });
    expect(different.status).toBe(200);
    expect(await different.json()).toEqual(firstLink);

    const listed = await list({ noteId });
    expect(listed.links.map((l) => l.code)).toEqual([firstLink.code]);
  });

  it('mints under a chosen slug', async () => {
    const slug = unique('Spring_Serum');
    const res = await post('/v1/links', { url: ITEM, noteId: 'slugged', category: 'beauty', slug });
    expect(res.status).toBe(201);
    const link = (await res.json()) as LinkBody;
    expect(link.code).toBe(slug);
    expect(link.shortUrl).toBe(`${PUBLIC_URL}/${slug}`);
    expect(destinationOf(await tap(slug))).toEqual({ origin: 'https://item.taobao.com', path: '/item.htm', id: '123' });
    expect((await getLink(slug)).code).toBe(slug);
  });

  it('lets a merchant approved for a whitelist category mint in it', async () => {
    const approved = await gw.merchant('Approved clinic');
    const res = await gw.request(`/v1/admin/merchants/${approved.id}/categories`, {
      method: 'PUT',
      key: ADMIN_TOKEN,
      json: { categories: ['health-check', 'medical-device'] },
    });
    expect(res.status).toBe(200);
    for (const category of ['health-check', 'medical-device']) {
      const minted = await post('/v1/links', { url: ITEM, noteId: 'clinic', category }, approved.apiKey);
      expect(minted.status).toBe(201);
      expect(await minted.json()).toMatchObject({ category, status: 'active' });
    }
    expect((await list({}, approved.apiKey)).links).toHaveLength(2);
  });
});

describe('POST /v1/links/bulk', () => {
  it('mints many at once, answering per item, duplicates returning the same link', async () => {
    const noteId = unique('bulk');
    const [e1, e2] = [unique('e'), unique('e')];
    const items = [
      { url: ITEM, noteId, category: 'beauty', externalId: e1 },
      { url: 'https://item.taobao.com/item.htm?id=2', noteId, category: 'nutrition', externalId: e2, campaignId: 'bulk-c' },
      { url: 'https://detail.tmall.com/item.htm?id=3', noteId, category: 'health-food' },
      { url: ITEM, noteId, category: 'beauty', externalId: e1 },
      { url: 'https://item.taobao.com/item.htm?id=2', noteId, category: 'nutrition', externalId: e2, campaignId: 'bulk-c' },
    ];
    advance();
    const res = await post('/v1/links/bulk', { items });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      created: number;
      existing: number;
      failed: number;
      results: Array<{ index: number; status: number; link?: LinkBody; error?: unknown }>;
    };
    expect({ created: body.created, existing: body.existing, failed: body.failed }).toEqual({ created: 3, existing: 2, failed: 0 });
    expect(body.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    for (const r of body.results) {
      expect(r.error).toBeUndefined();
      expect(Object.keys(r.link as LinkBody).sort()).toEqual(LINK_FIELDS);
      expect(r.link).toMatchObject({ noteId, status: 'active', clicks: 0, shortUrl: `${PUBLIC_URL}/${r.link?.code}` });
      expect(r.link?.url).toBe(items[r.index]?.url);
    }
    // The item without an externalId is always new; of each pair exactly one is new, and both name one link.
    expect(body.results[2]?.status).toBe(201);
    for (const [a, b] of [[0, 3], [1, 4]] as const) {
      expect([body.results[a]?.status, body.results[b]?.status].sort()).toEqual([200, 201]);
      expect(body.results[a]?.link?.code).toBe(body.results[b]?.link?.code);
    }
    expect(body.results[1]?.link).toMatchObject({ externalId: e2, campaignId: 'bulk-c', category: 'nutrition' });

    const listed = await list({ noteId });
    expect(listed.links.map((l) => l.code).sort()).toEqual([0, 1, 2].map((i) => body.results[i]?.link?.code).sort());

    // Sending the same batch again creates nothing.
    const again = (await (await post('/v1/links/bulk', { items: items.slice(0, 2) })).json()) as typeof body;
    expect({ created: again.created, existing: again.existing, failed: again.failed }).toEqual({ created: 0, existing: 2, failed: 0 });
    expect(again.results.map((r) => r.link?.code)).toEqual([body.results[0]?.link?.code, body.results[1]?.link?.code]);
    expect((await list({ noteId })).links).toHaveLength(3);
  });

  it('returns a link minted one at a time when the bulk names its externalId', async () => {
    const externalId = unique('single-first');
    const single = await gw.mint(key, { noteId: 'mixed-ways', externalId });
    const res = await post('/v1/links/bulk', { items: [{ url: ITEM, noteId: 'mixed-ways', category: 'beauty', externalId }] });
    const body = (await res.json()) as { existing: number; results: Array<{ status: number; link: LinkBody }> };
    expect(body.existing).toBe(1);
    expect(body.results[0]).toMatchObject({ status: 200, link: { code: single.code } });
  });

  it('accepts the full 1,000 items', async () => {
    const noteId = unique('thousand');
    const items = Array.from({ length: 1000 }, (_, i) => ({ url: `https://item.taobao.com/item.htm?id=${i}`, noteId, category: 'beauty' }));
    const res = await post('/v1/links/bulk', { items });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { created: number; failed: number; results: unknown[] };
    expect(body).toMatchObject({ created: 1000, failed: 0 });
    expect(body.results).toHaveLength(1000);
    const { codes } = await listAll({ noteId, limit: 200 });
    expect(new Set(codes).size).toBe(1000);
  });
});

describe('GET /v1/links (listing)', () => {
  let pager: string;
  /** Codes in creation order, with their note and campaign. */
  const minted: Array<{ code: string; noteId: string; campaignId: string | undefined }> = [];

  beforeAll(async () => {
    pager = (await gw.merchant('Pager')).apiKey;
    const plan: Array<[string, string | undefined]> = [
      ['feed-a', 'c1'],
      ['feed-a', 'c2'],
      ['feed-b', 'c1'],
      ['feed-a', 'c1'],
      ['feed-a', undefined],
      ['feed-b', 'c2'],
      ['feed-a', 'c1'],
      ['feed-b', 'c1'],
      ['feed-a', 'c2'],
      ['feed-a', 'c1'],
      ['feed-b', undefined],
    ];
    for (const [noteId, campaignId] of plan) {
      advance();
      const link = await gw.mint(pager, { noteId, ...(campaignId === undefined ? {} : { campaignId }) });
      minted.push({ code: link.code, noteId, campaignId });
    }
  });

  const newestFirst = (keep: (m: (typeof minted)[number]) => boolean) => minted.filter(keep).map((m) => m.code).reverse();

  const walk = async (query: Record<string, string | number>) => {
    const codes: string[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const page: ListBody = await list(cursor === null ? query : { ...query, cursor }, pager);
      for (const link of page.links) expect(Object.keys(link).sort()).toEqual(LINK_FIELDS);
      codes.push(...page.links.map((l) => l.code));
      pages.push(page.links.length);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(50);
    } while (cursor !== null);
    return { codes, pages };
  };

  it('lists everything newest first in one page by default', async () => {
    const page = await list({}, pager);
    expect(page.nextCursor).toBeNull();
    expect(page.links.map((l) => l.code)).toEqual(newestFirst(() => true));
    const created = page.links.map((l) => Date.parse(l.createdAt));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  it('pages through everything, newest first, without repeats or gaps', async () => {
    const { codes, pages } = await walk({ limit: 3 });
    expect(pages).toEqual([3, 3, 3, 2]);
    expect(codes).toEqual(newestFirst(() => true));
  });

  it('ends exactly on a full page with a null cursor', async () => {
    const { pages } = await walk({ limit: 11 });
    expect(pages).toEqual([11]);
  });

  it('filters by noteId across pages', async () => {
    const { codes, pages } = await walk({ noteId: 'feed-a', limit: 2 });
    expect(codes).toEqual(newestFirst((m) => m.noteId === 'feed-a'));
    expect(codes).toHaveLength(7);
    expect(pages).toEqual([2, 2, 2, 1]);
  });

  it('filters by campaignId across pages', async () => {
    const { codes, pages } = await walk({ campaignId: 'c1', limit: 2 });
    expect(codes).toEqual(newestFirst((m) => m.campaignId === 'c1'));
    expect(codes).toHaveLength(6);
    expect(pages).toEqual([2, 2, 2]);
  });

  it('filters by noteId and campaignId together across pages', async () => {
    const { codes, pages } = await walk({ noteId: 'feed-a', campaignId: 'c1', limit: 2 });
    expect(codes).toEqual(newestFirst((m) => m.noteId === 'feed-a' && m.campaignId === 'c1'));
    expect(codes).toHaveLength(4);
    expect(pages).toEqual([2, 2]);

    const other = await walk({ noteId: 'feed-b', campaignId: 'c2', limit: 1 });
    expect(other.codes).toEqual(newestFirst((m) => m.noteId === 'feed-b' && m.campaignId === 'c2'));
  });

  it('answers an empty page for a filter that matches nothing', async () => {
    expect(await list({ noteId: 'no-such-note' }, pager)).toEqual({ links: [], nextCursor: null });
    expect(await list({ noteId: 'feed-b', campaignId: 'no-such-campaign' }, pager)).toEqual({ links: [], nextCursor: null });
  });

  it('puts a newly minted link first', async () => {
    advance();
    const fresh = await gw.mint(pager, { noteId: 'feed-a', campaignId: 'c1' });
    const page = await list({ noteId: 'feed-a', campaignId: 'c1', limit: 1 }, pager);
    expect(page.links.map((l) => l.code)).toEqual([fresh.code]);
    minted.push({ code: fresh.code, noteId: 'feed-a', campaignId: 'c1' });
  });
});

describe('GET /v1/links/:code', () => {
  it('reads a link exactly as it was minted', async () => {
    advance();
    const res = await post('/v1/links', { url: ITEM, noteId: 'read-me', category: 'personal-care', campaignId: 'r', externalId: unique('x') });
    const minted = (await res.json()) as LinkBody;
    expect(await getLink(minted.code)).toEqual(minted);
  });
});

describe('PATCH /v1/links/:code', () => {
  it('changes the url, and the very next tap goes to the new one', async () => {
    const link = await gw.mint(key, { noteId: 'patch-url' });
    // Warm this process's redirect cache with the old destination.
    expect(destinationOf(await tap(link.code)).id).toBe('123');

    const updatedAt = advance(10);
    const res = await patch(link.code, { url: 'https://detail.tmall.com/item.htm?id=456' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      code: link.code,
      url: 'https://detail.tmall.com/item.htm?id=456',
      status: 'active',
      createdAt: link.createdAt,
      updatedAt,
    });
    expect(destinationOf(await tap(link.code))).toEqual({ origin: 'https://detail.tmall.com', path: '/item.htm', id: '456' });
    expect((await getLink(link.code)).url).toBe('https://detail.tmall.com/item.htm?id=456');
  });

  it('pauses (the tap answers 410) and resumes (302 again)', async () => {
    const link = await gw.mint(key, { noteId: 'pause' });
    expect((await tap(link.code)).status).toBe(302);

    const paused = await patch(link.code, { status: 'paused' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ status: 'paused', url: link.url });
    const gone = await tap(link.code);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('location')).toBeNull();
    expect((await getLink(link.code)).status).toBe('paused');
    // A paused link stays listed.
    expect((await list({ noteId: 'pause' })).links.map((l) => l.code)).toContain(link.code);

    const resumed = await patch(link.code, { status: 'active' });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ status: 'active' });
    expect(destinationOf(await tap(link.code)).id).toBe('123');
  });

  it('sets an expiry (taps after it answer 410) and clears it (302 again)', async () => {
    const link = await gw.mint(key, { noteId: 'expiry' });
    const expiresAt = new Date(gw.clock.now + 60_000).toISOString();
    const res = await patch(link.code, { expiresAt });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ expiresAt });
    expect((await tap(link.code)).status).toBe(302);

    advance(61_000);
    expect((await tap(link.code)).status).toBe(410);

    const cleared = await patch(link.code, { expiresAt: null });
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toMatchObject({ expiresAt: null });
    expect((await tap(link.code)).status).toBe(302);
  });

  it('changes several fields at once', async () => {
    const link = await gw.mint(key, { noteId: 'multi-patch' });
    const expiresAt = new Date(gw.clock.now + 3_600_000).toISOString();
    const res = await patch(link.code, { url: 'https://item.taobao.com/item.htm?id=777', status: 'paused', expiresAt });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ url: 'https://item.taobao.com/item.htm?id=777', status: 'paused', expiresAt, noteId: 'multi-patch' });
  });
});

describe('DELETE /v1/links/:code', () => {
  it('deletes: 204, the short URL answers 410, GET shows it deleted, the listing drops it', async () => {
    const link = await gw.mint(key, { noteId: 'delete-me' });
    expect((await tap(link.code)).status).toBe(302);

    const res = await gw.request(`/v1/links/${link.code}`, { method: 'DELETE', key });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');

    const gone = await tap(link.code);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await gone.json()).toMatchObject({ status: 410, type: expect.stringMatching(/link-deleted$/) });
    // A browser gets a page rather than a problem document.
    const page = await tap(link.code, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(410);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);

    expect(await getLink(link.code)).toMatchObject({ code: link.code, status: 'deleted' });
    expect((await list({ noteId: 'delete-me' })).links).toEqual([]);

    // Deleting again changes nothing.
    expect((await gw.request(`/v1/links/${link.code}`, { method: 'DELETE', key })).status).toBe(204);
    expect((await tap(link.code)).status).toBe(410);
  });

  it('keeps a deleted slug taken', async () => {
    const slug = unique('retired');
    await gw.mint(key, { noteId: 'retired', slug });
    expect((await gw.request(`/v1/links/${slug}`, { method: 'DELETE', key })).status).toBe(204);
    expect((await post('/v1/links', { url: ITEM, noteId: 'retired', category: 'beauty', slug })).status).toBe(409);
    expect((await tap(slug)).status).toBe(410);
  });
});

describe('clicks', () => {
  it('counts taps on the link, in GET and in the listing', async () => {
    const noteId = unique('clicky');
    const link = await gw.mint(key, { noteId });
    const other = await gw.mint(key, { noteId });

    for (let i = 0; i < 3; i++) expect((await tap(link.code, { headers: { 'x-test-ip': `198.51.100.${i}` } })).status).toBe(302);
    expect((await tap(other.code)).status).toBe(302);
    await gw.clicks.flush();

    expect((await getLink(link.code)).clicks).toBe(3);
    expect((await getLink(other.code)).clicks).toBe(1);
    const listed = await list({ noteId });
    expect(Object.fromEntries(listed.links.map((l) => [l.code, l.clicks]))).toEqual({ [link.code]: 3, [other.code]: 1 });

    await tap(link.code);
    await gw.clicks.flush();
    expect((await getLink(link.code)).clicks).toBe(4);
  });

  it('does not count a HEAD, a refused tap or an unknown code', async () => {
    const link = await gw.mint(key, { noteId: unique('not-counted') });
    expect((await tap(link.code, { method: 'HEAD' })).status).toBe(302);
    await patch(link.code, { status: 'paused' });
    expect((await tap(link.code)).status).toBe(410);
    expect((await tap('NoSuchCode9')).status).toBe(404);
    await gw.clicks.flush();
    expect((await getLink(link.code)).clicks).toBe(0);
  });
});
