import { createHash } from 'node:crypto';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributionQuery, verifyAttribution } from '../../src/domain/attribution.js';
import { ADMIN_TOKEN, SIGNING_KEYS, testGateway, type TestGateway } from '../helpers/app.js';
import { namespaceSnapshot } from '../helpers/snapshot.js';

/**
 * Merchants are isolated (issue 6, item 6). One table holds every merchant endpoint; merchant B
 * asks each with its own key and one of A's ids, then with an id that exists nowhere. Per row:
 *   - B's two answers are the same (status, headers but B's own rate-limit budget, and body once the
 *     id B itself supplied, and any link code minted for B, are blanked), so B cannot tell that A's
 *     object exists;
 *   - the two requests have the same effect on the store (the same keys change, under the same
 *     blanking), and nothing of A's changes: not one stored key that names or holds A's merchant
 *     id, link codes, click ids or key hash, and not A's answers on every read endpoint;
 *   - a refusal changes nothing at all; an acceptance (B minting with A's externalId, B's spend on
 *     A's campaign id, B's order under A's orderId) is B's own object, never A's.
 * After the table, B's listings, stats and exports hold nothing of A's, and the store holds no API
 * key in plain text.
 */

type Key = { id: string; apiKey: string };
type Snapshot = Record<string, string>;
type Ask = { method: string; path: string; json?: unknown; key?: string; headers?: Record<string, string> };

let gw: TestGateway;
let a: Key;
let b: Key;

const A_URL = 'https://item.taobao.com/item.htm?id=770077007700';
const A_SLUG = 'a-only-slug-7700';
const B_SLUG = 'b-own-slug-7700';
/** A's objects, by what B could name them with. */
const A = {
  active: '',
  paused: '',
  deleted: '',
  clicks: [] as string[],
  landing: '',
  /** A cursor A's link listing returned. */
  listCursor: '',
  /** A cursor A's click export returned. */
  exportCursor: '',
  note: 'a-note',
  campaign: 'a-campaign',
  pausedNote: 'a-note-2',
  pausedCampaign: 'a-campaign-2',
  external: 'a-external',
  pausedExternal: 'a-external-2',
  deletedExternal: 'a-external-3',
  /** Reported by A and left whole. */
  order: 'a-order',
  /** Reported by A and partly refunded. */
  refundedOrder: 'a-order-2',
};
let bCodes: string[] = [];
let bClick = '';

const aCodes = () => [A.active, A.paused, A.deleted];
const send = ({ method, path, json, key, headers }: Ask) =>
  gw.request(path, { method, key: key ?? b.apiKey, ...(headers === undefined ? {} : { headers }), ...(json === undefined ? {} : { json }) });
const clickIdOf = (res: Response) => new URL(res.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  gw = await testGateway();
  a = await gw.merchant('Merchant A');
  b = await gw.merchant('Merchant B');

  // B's own links and click come first, so that every listing or export position of A's lies after them.
  bCodes = [(await gw.mint(b.apiKey, { noteId: 'b-note', slug: B_SLUG })).code, (await gw.mint(b.apiKey, { noteId: 'b-note-2' })).code];
  bClick = clickIdOf(await gw.request(`/${bCodes[0]}`, { headers: { 'x-test-ip': '198.51.100.20' } }));
  await gw.flush();
  // Click stream ids are Redis time: A's must be later than B's.
  await new Promise((resolve) => setTimeout(resolve, 5));

  gw.clock.now += 60_000;
  A.active = (await gw.mint(a.apiKey, { url: A_URL, noteId: A.note, campaignId: A.campaign, externalId: A.external, slug: A_SLUG })).code;
  gw.clock.now += 1000;
  A.paused = (await gw.mint(a.apiKey, { url: A_URL, noteId: A.pausedNote, campaignId: A.pausedCampaign, externalId: A.pausedExternal })).code;
  expect((await gw.request(`/v1/links/${A.paused}`, { method: 'PATCH', key: a.apiKey, json: { status: 'paused' } })).status).toBe(200);
  gw.clock.now += 1000;
  A.deleted = (await gw.mint(a.apiKey, { url: A_URL, noteId: A.note, externalId: A.deletedExternal })).code;
  expect((await gw.request(`/v1/links/${A.deleted}`, { method: 'DELETE', key: a.apiKey })).status).toBe(204);

  await gw.request(`/i/${A.active}`, { headers: { accept: 'image/gif' } });
  const tap = await gw.request(`/${A.active}`, { headers: { 'x-test-ip': '198.51.100.1' } });
  A.landing = tap.headers.get('location') ?? '';
  A.clicks = [clickIdOf(tap), clickIdOf(await gw.request(`/${A.active}`, { headers: { 'x-test-ip': '198.51.100.2' } }))];
  await gw.flush();

  const report = (orderId: string, clickId: string, amount: number) =>
    gw.request('/v1/conversions', { method: 'POST', key: a.apiKey, json: { clickId, orderId, amount, currency: 'CNY', newCustomer: true } });
  expect((await report(A.order, A.clicks[0]!, 88.8)).status).toBe(201);
  expect((await report(A.refundedOrder, A.clicks[1]!, 50)).status).toBe(201);
  expect((await gw.request(`/v1/conversions/${A.refundedOrder}/refund`, { method: 'POST', key: a.apiKey, json: { amount: 20 } })).status).toBe(200);
  const today = new Date(gw.clock.now).toISOString().slice(0, 10);
  for (const json of [{ amount: 100, currency: 'CNY' }, { amount: 30, currency: 'CNY', date: today }]) {
    expect((await gw.request(`/v1/campaigns/${A.campaign}/spend`, { method: 'PUT', key: a.apiKey, json })).status).toBe(200);
  }

  const listed = await gw.request('/v1/links?limit=1', { key: a.apiKey });
  A.listCursor = ((await listed.json()) as { nextCursor: string }).nextCursor;
  const exported = await gw.request('/v1/clicks?limit=1', { key: a.apiKey });
  A.exportCursor = /cursor=([^&>]+)/.exec(exported.headers.get('link') ?? '')?.[1] ?? '';
  expect(A.listCursor).toEqual(expect.any(String));
  expect(A.exportCursor).toMatch(/^\d+-\d+$/);

  // The table's requests happen an hour later: nothing B mints then sorts before A's positions.
  gw.clock.now += 3_600_000;
});

afterAll(async () => {
  await gw.close();
});

/** A landing URL signed as the gateway signs, for a click id no merchant has. */
function landingOfNoClick(): string {
  const verdict = verifyAttribution(A.landing, SIGNING_KEYS, { nowMs: gw.clock.now });
  if (!verdict.valid) throw new Error(`A's landing does not verify: ${verdict.reason}`);
  const fields = { clickId: nanoid(21), linkCode: verdict.linkCode, noteId: verdict.noteId, timestamp: verdict.timestamp };
  return `${verdict.destination}&${attributionQuery(verdict.destination, fields, SIGNING_KEYS[0]!)}`;
}

/** A cursor of the listing's own form for a position no link has: A's first link's time, a code nobody has. */
function listCursorOfNoLink(): string {
  const member = Buffer.from(A.listCursor, 'base64url').toString('utf8');
  return Buffer.from(`${member.slice(0, 16)}NoSuchL1nk`, 'utf8').toString('base64url');
}

const ITEM = 'https://item.taobao.com/item.htm?id=1';
const intruderLink = { url: ITEM, noteId: 'b-intruder', category: 'beauty' };
const missingCode = () => `zz${nanoid(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
const fresh = (what: string) => `fresh-${what}-${nanoid(6).replace(/[^A-Za-z0-9]/g, 'x')}`;

interface Row {
  name: string;
  /** A's id for this request. */
  theirs: () => string;
  /** An id of the same kind that exists nowhere. */
  missing: () => string;
  ask: (id: string) => Ask;
  /** 'refused': B gets a 4xx and nothing changes; 'own': B's request is served, on B's own data. */
  outcome: 'refused' | 'own';
}

const byCode = (state: 'active' | 'paused' | 'deleted'): Row[] => [
  { name: `GET /v1/links/:code, A's ${state} link`, theirs: () => A[state], missing: missingCode, ask: (code) => ({ method: 'GET', path: `/v1/links/${code}` }), outcome: 'refused' },
  {
    name: `PATCH /v1/links/:code, A's ${state} link, pausing`,
    theirs: () => A[state],
    missing: missingCode,
    ask: (code) => ({ method: 'PATCH', path: `/v1/links/${code}`, json: { status: 'paused' } }),
    outcome: 'refused',
  },
  {
    name: `PATCH /v1/links/:code, A's ${state} link, redirecting`,
    theirs: () => A[state],
    missing: missingCode,
    ask: (code) => ({ method: 'PATCH', path: `/v1/links/${code}`, json: { url: 'https://item.taobao.com/item.htm?id=666', status: 'active', maxClicks: null } }),
    outcome: 'refused',
  },
  {
    name: `PATCH /v1/links/:code, A's ${state} link, to a destination not allowed`,
    theirs: () => A[state],
    missing: missingCode,
    ask: (code) => ({ method: 'PATCH', path: `/v1/links/${code}`, json: { url: 'https://evil.example.com/' } }),
    outcome: 'refused',
  },
  { name: `DELETE /v1/links/:code, A's ${state} link`, theirs: () => A[state], missing: missingCode, ask: (code) => ({ method: 'DELETE', path: `/v1/links/${code}` }), outcome: 'refused' },
];

const rows: Row[] = [
  ...byCode('active'),
  ...byCode('paused'),
  ...byCode('deleted'),
  { name: "GET /v1/links/:code, A's slug", theirs: () => A_SLUG, missing: () => fresh('slug'), ask: (code) => ({ method: 'GET', path: `/v1/links/${code}` }), outcome: 'refused' },

  // Listing, filtered by A's note or campaign, or paged from A's cursor: B's own links or none.
  { name: "GET /v1/links?noteId, A's note", theirs: () => A.note, missing: () => fresh('note'), ask: (id) => ({ method: 'GET', path: `/v1/links?noteId=${id}` }), outcome: 'own' },
  { name: "GET /v1/links?campaignId, A's campaign", theirs: () => A.campaign, missing: () => fresh('campaign'), ask: (id) => ({ method: 'GET', path: `/v1/links?campaignId=${id}` }), outcome: 'own' },
  {
    name: "GET /v1/links?noteId&campaignId, A's note and campaign",
    theirs: () => A.note,
    missing: () => fresh('note'),
    ask: (id) => ({ method: 'GET', path: `/v1/links?noteId=${id}&campaignId=${A.campaign}` }),
    outcome: 'own',
  },
  { name: "GET /v1/links?cursor, A's cursor", theirs: () => A.listCursor, missing: listCursorOfNoLink, ask: (cursor) => ({ method: 'GET', path: `/v1/links?cursor=${cursor}` }), outcome: 'own' },

  // Minting under A's names makes B's own link.
  { name: "POST /v1/links, A's externalId", theirs: () => A.external, missing: () => fresh('ext'), ask: (id) => ({ method: 'POST', path: '/v1/links', json: { ...intruderLink, externalId: id } }), outcome: 'own' },
  {
    name: "POST /v1/links, the externalId of A's deleted link",
    theirs: () => A.deletedExternal,
    missing: () => fresh('ext'),
    ask: (id) => ({ method: 'POST', path: '/v1/links', json: { ...intruderLink, externalId: id } }),
    outcome: 'own',
  },
  { name: "POST /v1/links, A's note", theirs: () => A.pausedNote, missing: () => fresh('note'), ask: (id) => ({ method: 'POST', path: '/v1/links', json: { ...intruderLink, noteId: id } }), outcome: 'own' },
  {
    name: "POST /v1/links, A's campaign",
    theirs: () => A.pausedCampaign,
    missing: () => fresh('campaign'),
    ask: (id) => ({ method: 'POST', path: '/v1/links', json: { ...intruderLink, campaignId: id } }),
    outcome: 'own',
  },
  {
    name: "POST /v1/links/bulk, A's externalId",
    theirs: () => A.pausedExternal,
    missing: () => fresh('ext'),
    ask: (id) => ({ method: 'POST', path: '/v1/links/bulk', json: { items: [{ ...intruderLink, externalId: id }, { ...intruderLink, noteId: 'not-valid!' }] } }),
    outcome: 'own',
  },

  // Close the loop: verify, orders, refunds, spend.
  { name: "POST /v1/attribution/verify, A's landing", theirs: () => A.landing, missing: landingOfNoClick, ask: (url) => ({ method: 'POST', path: '/v1/attribution/verify', json: { url } }), outcome: 'own' },
  {
    name: "POST /v1/conversions, A's click",
    theirs: () => A.clicks[0]!,
    missing: () => nanoid(21),
    ask: (clickId) => ({ method: 'POST', path: '/v1/conversions', json: { clickId, orderId: 'b-order-on-a-click', amount: 10, currency: 'CNY', newCustomer: true } }),
    outcome: 'refused',
  },
  {
    name: "POST /v1/conversions, A's click and A's orderId",
    theirs: () => A.clicks[1]!,
    missing: () => nanoid(21),
    ask: (clickId) => ({ method: 'POST', path: '/v1/conversions', json: { clickId, orderId: A.refundedOrder, amount: 50, currency: 'CNY', newCustomer: true } }),
    outcome: 'refused',
  },
  {
    name: "POST /v1/conversions, A's click, occurred before it",
    theirs: () => A.clicks[0]!,
    missing: () => nanoid(21),
    ask: (clickId) => ({
      method: 'POST',
      path: '/v1/conversions',
      json: { clickId, orderId: 'b-order-early', amount: 10, currency: 'CNY', newCustomer: false, occurredAt: '2020-01-01T00:00:00Z' },
    }),
    outcome: 'refused',
  },
  {
    name: "POST /v1/conversions, B's own click under A's orderId",
    theirs: () => A.order,
    missing: () => fresh('order'),
    ask: (orderId) => ({ method: 'POST', path: '/v1/conversions', json: { clickId: bClick, orderId, amount: 5, currency: 'CNY', newCustomer: false } }),
    outcome: 'own',
  },
  { name: "POST /v1/conversions/:orderId/refund, A's order, in full", theirs: () => A.refundedOrder, missing: () => fresh('order'), ask: (id) => ({ method: 'POST', path: `/v1/conversions/${id}/refund`, json: {} }), outcome: 'refused' },
  {
    name: "POST /v1/conversions/:orderId/refund, A's order, in part",
    theirs: () => A.refundedOrder,
    missing: () => fresh('order'),
    ask: (id) => ({ method: 'POST', path: `/v1/conversions/${id}/refund`, json: { amount: 1 } }),
    outcome: 'refused',
  },
  {
    name: "POST /v1/conversions/:orderId/refund, A's order, more than is left",
    theirs: () => A.refundedOrder,
    missing: () => fresh('order'),
    ask: (id) => ({ method: 'POST', path: `/v1/conversions/${id}/refund`, json: { amount: 40 } }),
    outcome: 'refused',
  },
  {
    name: "PUT /v1/campaigns/:campaignId/spend, A's campaign, total",
    theirs: () => A.campaign,
    missing: () => fresh('campaign'),
    ask: (id) => ({ method: 'PUT', path: `/v1/campaigns/${id}/spend`, json: { amount: 999, currency: 'CNY' } }),
    outcome: 'own',
  },
  {
    // Another of A's campaigns: B named A.campaign in the row above, and its spend list already holds it.
    name: "PUT /v1/campaigns/:campaignId/spend, A's campaign, a day",
    theirs: () => A.pausedCampaign,
    missing: () => fresh('campaign'),
    ask: (id) => ({ method: 'PUT', path: `/v1/campaigns/${id}/spend`, json: { amount: 77, currency: 'CNY', date: new Date(gw.clock.now).toISOString().slice(0, 10) } }),
    outcome: 'own',
  },

  // Stats take no ids at all (B's own figures, grouped): naming A's objects is refused alike.
  {
    name: "GET /v1/stats?groupBy=campaign&campaignId, A's campaign",
    theirs: () => A.campaign,
    missing: () => fresh('campaign'),
    ask: (id) => ({ method: 'GET', path: `/v1/stats?groupBy=campaign&campaignId=${id}` }),
    outcome: 'refused',
  },
  { name: "GET /v1/stats?groupBy=link&code, A's link", theirs: () => A.active, missing: missingCode, ask: (code) => ({ method: 'GET', path: `/v1/stats?groupBy=link&code=${code}` }), outcome: 'refused' },

  // The click export, paged from A's cursor.
  { name: "GET /v1/clicks?cursor, A's cursor", theirs: () => A.exportCursor, missing: () => `${A.exportCursor.split('-')[0]}-999`, ask: (c) => ({ method: 'GET', path: `/v1/clicks?cursor=${c}` }), outcome: 'own' },
  {
    name: "GET /v1/clicks?cursor (CSV), A's cursor",
    theirs: () => A.exportCursor,
    missing: () => `${A.exportCursor.split('-')[0]}-999`,
    ask: (c) => ({ method: 'GET', path: `/v1/clicks?cursor=${c}&limit=1`, headers: { accept: 'text/csv' } }),
    outcome: 'own',
  },

  // The operator routes, with B's merchant key instead of the admin token.
  {
    name: "PUT /v1/admin/merchants/:id/categories with B's key, A's merchant id",
    theirs: () => a.id,
    missing: () => `mer_${nanoid(16).replace(/[^A-Za-z0-9]/g, 'x')}`,
    ask: (id) => ({ method: 'PUT', path: `/v1/admin/merchants/${id}/categories`, json: { categories: ['health-check'] } }),
    outcome: 'refused',
  },
  {
    name: "POST /v1/admin/merchants with B's key, or a key that exists nowhere",
    theirs: () => b.apiKey,
    missing: () => `hlk_${nanoid(40)}`,
    ask: (key) => ({ method: 'POST', path: '/v1/admin/merchants', json: { name: 'Intruder Ltd' }, key }),
    outcome: 'refused',
  },
  {
    name: "PUT /v1/admin/merchants/:id/categories with B's key on B itself, or a key that exists nowhere",
    theirs: () => b.apiKey,
    missing: () => `hlk_${nanoid(40)}`,
    ask: (key) => ({ method: 'PUT', path: `/v1/admin/merchants/${b.id}/categories`, json: { categories: ['health-check'] }, key }),
    outcome: 'refused',
  },
];

/** What a stored key or value of A's contains: its merchant id, key hash, link codes or click ids. */
const aMarks = () => [a.id, sha256(a.apiKey), ...aCodes(), ...A.clicks];
const isA = (key: string, value: string | undefined) => aMarks().some((mark) => key.includes(mark) || (value ?? '').includes(mark));

function aOwned(snapshot: Snapshot): Snapshot {
  return Object.fromEntries(Object.entries(snapshot).filter(([key, value]) => isA(key, value)));
}

/** Every read endpoint, as A sees it. */
async function aView(): Promise<unknown[]> {
  const views: unknown[] = [];
  for (const code of aCodes()) views.push(await (await gw.request(`/v1/links/${code}`, { key: a.apiKey })).json());
  for (const query of ['', `noteId=${A.note}`, `campaignId=${A.campaign}`, `noteId=${A.pausedNote}`]) {
    views.push(await (await gw.request(`/v1/links?${query}`, { key: a.apiKey })).json());
  }
  for (const groupBy of ['merchant', 'campaign', 'note', 'link']) {
    for (const interval of ['total', 'day']) views.push(await (await gw.request(`/v1/stats?groupBy=${groupBy}&interval=${interval}`, { key: a.apiKey })).json());
  }
  views.push(await (await gw.request('/v1/clicks', { key: a.apiKey })).text());
  views.push(await (await gw.request('/v1/clicks', { key: a.apiKey, headers: { accept: 'text/csv' } })).text());
  const verdict = await gw.request('/v1/attribution/verify', { method: 'POST', key: a.apiKey, json: { url: A.landing } });
  views.push(await verdict.json());
  return views;
}

function changed(before: Snapshot, after: Snapshot): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((key) => before[key] !== after[key]).sort();
}

/** Link codes the request minted: the link keys it added. */
function mintedCodes(before: Snapshot, after: Snapshot): string[] {
  const linkKey = `${gw.redis.prefix}link:`;
  return Object.keys(after).filter((key) => key.startsWith(linkKey) && !(key in before)).map((key) => key.slice(linkKey.length));
}

/** Blanks what B itself chose or was given: the id it supplied, and link codes minted for it. */
function blank(text: string, id: string, codes: string[]): string {
  let out = text.split(id).join('<ID>');
  for (const code of codes) out = out.split(code).join('<CODE>');
  return out.split(gw.redis.prefix).join('');
}

const headersOf = (res: Response) => [...res.headers.entries()].filter(([name]) => !name.startsWith('ratelimit-')).sort();

describe("B asks every merchant endpoint about A's objects", () => {
  it('the table covers every merchant and admin route the app serves', () => {
    const doc = gw.app.getOpenAPIDocument({ openapi: '3.0.3', info: { title: 't', version: '1' } });
    const served = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const apiRoutes = served.filter((route) => route.includes(' /v1/')).sort();
    const tableRoutes = [...new Set(rows.map((row) => /^[A-Z]+ [^?, ]+/.exec(row.name)?.[0]))].sort();
    expect(apiRoutes.length).toBeGreaterThanOrEqual(13);
    expect(tableRoutes).toEqual(apiRoutes);
  });

  it.each(rows)('$name', async ({ theirs, missing, ask, outcome }) => {
    const theirId = theirs();
    const missingId = missing();
    expect(theirId).not.toBe('');
    const aBefore = await aView();
    const s0 = await namespaceSnapshot(gw.redis);
    const forMissing = await send(ask(missingId));
    const s1 = await namespaceSnapshot(gw.redis);
    const forTheirs = await send(ask(theirId));
    const s2 = await namespaceSnapshot(gw.redis);

    // The same answer.
    const missingCodes = mintedCodes(s0, s1);
    const theirCodes = mintedCodes(s1, s2);
    expect(forTheirs.status).toBe(forMissing.status);
    expect(headersOf(forTheirs)).toEqual(headersOf(forMissing));
    const theirBody = await forTheirs.text();
    expect(blank(theirBody, theirId, theirCodes)).toBe(blank(await forMissing.text(), missingId, missingCodes));

    // The same effect, and nothing of A's touched.
    expect(changed(s1, s2).map((key) => blank(key, theirId, theirCodes))).toEqual(changed(s0, s1).map((key) => blank(key, missingId, missingCodes)));
    for (const key of changed(s1, s2)) expect(isA(key, s1[key]) || isA(key, s2[key]), key).toBe(false);
    expect(aOwned(s2)).toEqual(aOwned(s0));
    expect(await aView()).toEqual(aBefore);

    if (outcome === 'refused') {
      expect(forTheirs.status).toBeGreaterThanOrEqual(400);
      expect(forTheirs.status).toBeLessThan(500);
      expect(s2).toEqual(s0);
    } else {
      expect(forTheirs.status).toBeLessThan(300);
      // Whatever it made is B's.
      for (const code of theirCodes) expect(JSON.parse(JSON.parse(s2[`${gw.redis.prefix}link:${code}`] ?? '"null"') as string)).toMatchObject({ merchantId: b.id });
    }
    for (const mark of [a.id, A_URL, 'Merchant A', ...aCodes().filter((code) => code !== theirId), ...A.clicks.filter((id) => !theirId.includes(id))]) {
      expect(theirBody).not.toContain(mark);
    }
  });
});

describe("B's lists, stats and exports", () => {
  const aMarksInText = () => [a.id, 'Merchant A', '770077007700', ...aCodes(), ...A.clicks];

  it("never contain A's links, and every link B lists is B's", async () => {
    const codes: string[] = [];
    for (const query of ['', 'limit=1', `noteId=${A.note}`, `campaignId=${A.campaign}`, `noteId=${A.pausedNote}`, `campaignId=${A.pausedCampaign}`]) {
      let cursor: string | null = null;
      for (let page = 0; page < 100; page++) {
        const res = await gw.request(`/v1/links?${query}${cursor === null ? '' : `${query === '' ? '' : '&'}cursor=${cursor}`}`, { key: b.apiKey });
        expect(res.status).toBe(200);
        const text = await res.text();
        for (const mark of aMarksInText()) expect(text).not.toContain(mark);
        const body = JSON.parse(text) as { links: { code: string }[]; nextCursor: string | null };
        codes.push(...body.links.map((link) => link.code));
        cursor = body.nextCursor;
        if (cursor === null) break;
      }
    }
    expect(codes).toEqual(expect.arrayContaining(bCodes));
    for (const code of new Set(codes)) {
      expect((await gw.request(`/v1/links/${code}`, { key: b.apiKey })).status).toBe(200);
      expect((await gw.request(`/v1/links/${code}`, { key: a.apiKey })).status).toBe(404);
    }
  });

  it.each(['merchant', 'campaign', 'note', 'link'])("stats grouped by %s never contain A's groups or figures", async (groupBy) => {
    for (const interval of ['total', 'day', 'hour']) {
      const res = await gw.request(`/v1/stats?groupBy=${groupBy}&interval=${interval}`, { key: b.apiKey });
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const mark of aMarksInText()) expect(text).not.toContain(mark);
      const report = JSON.parse(text) as { groups: { id: string | null; intervals: Record<string, number>[] }[] };
      // B had no impressions; A's pixel counted for A alone.
      for (const group of report.groups) for (const row of group.intervals) expect(row.impressions).toBe(0);
      if (groupBy === 'merchant') expect(report.groups.map((group) => group.id)).toEqual([b.id]);
      if (groupBy === 'link') for (const group of report.groups) expect(bCodes).toContain(group.id);
    }
  });

  it("B's merchant totals are B's own: one click, and only B's orders and spend", async () => {
    const res = await gw.request('/v1/stats?groupBy=merchant&interval=total', { key: b.apiKey });
    const [group] = ((await res.json()) as { groups: { intervals: Record<string, number>[] }[] }).groups;
    // One tap on B's link; the orders B reported on it in the table (5.00 each), never A's 88.80 or 50.00.
    expect(group?.intervals[0]).toMatchObject({ impressions: 0, clicks: 1, uniqueClicks: 1, orders: 2, gmv: 10 });
  });

  it.each(['application/x-ndjson', 'text/csv'])("the click export (%s) never contains A's clicks", async (accept) => {
    for (const query of ['', '?limit=1', `?cursor=${A.exportCursor}`, '?cursor=0-0']) {
      const res = await gw.request(`/v1/clicks${query}`, { key: b.apiKey, headers: { accept } });
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const mark of aMarksInText()) expect(text).not.toContain(mark);
      if (query !== `?cursor=${A.exportCursor}`) expect(text).toContain(bClick);
    }
  });
});

describe('slugs are one public namespace', () => {
  it("B taking A's slug is refused exactly as B taking a slug B itself holds, and learns nothing more", async () => {
    const before = await namespaceSnapshot(gw.redis);
    const take = (slug: string) => send({ method: 'POST', path: '/v1/links', json: { ...intruderLink, slug } });
    const theirs = await take(A_SLUG);
    const own = await take(B_SLUG);
    expect(theirs.status).toBe(409);
    expect(own.status).toBe(409);
    expect(headersOf(theirs)).toEqual(headersOf(own));
    expect(blank(await theirs.text(), A_SLUG, [])).toBe(blank(await own.text(), B_SLUG, []));
    expect(await namespaceSnapshot(gw.redis)).toEqual(before);
    // That the slug is taken is no secret: its short URL answers anyone.
    expect((await gw.request(`/${A_SLUG}`)).status).toBe(302);
  });
});

describe('secrets at rest', () => {
  /** Every key of the test's namespace, rate-limit windows included, with its content as text. */
  async function rawDump(): Promise<[string, string][]> {
    const { redis, prefix } = gw.redis;
    const dump: [string, string][] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string' ? await redis.get(key)
          : type === 'hash' ? await redis.hgetall(key)
          : type === 'zset' ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
          : type === 'set' ? await redis.smembers(key)
          : type === 'stream' ? await redis.xrange(key, '-', '+')
          : type === 'list' ? await redis.lrange(key, '0', '-1')
          : `<${type}>`;
        dump.push([key, JSON.stringify(value)]);
      }
      cursor = next;
    } while (cursor !== '0');
    return dump;
  }

  it('the store holds no API key and no admin token in plain text, only the keys’ hashes', async () => {
    const dump = await rawDump();
    expect(dump.length).toBeGreaterThan(20);
    expect(dump.some(([key]) => key.startsWith(`${gw.redis.prefix}rate:`))).toBe(true);
    for (const merchant of [a, b]) {
      // The scan does see where keys are kept, so their absence means something.
      expect(dump.some(([key, value]) => key.includes(sha256(merchant.apiKey)) || value.includes(sha256(merchant.apiKey)))).toBe(true);
      const secret = merchant.apiKey;
      const forms = [secret, secret.slice(4), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'), Buffer.from(secret).toString('hex')];
      for (const [key, value] of dump) {
        for (const form of forms) {
          expect(key.includes(form), key).toBe(false);
          expect(value.includes(form), key).toBe(false);
        }
      }
    }
    for (const [key, value] of dump) {
      expect(key.includes(ADMIN_TOKEN) || value.includes(ADMIN_TOKEN), key).toBe(false);
      expect(key.includes(sha256(ADMIN_TOKEN)) || value.includes(sha256(ADMIN_TOKEN)), key).toBe(false);
    }
  });
});
