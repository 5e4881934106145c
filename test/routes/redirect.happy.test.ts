import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAttribution } from '../../src/domain/attribution.js';
import { SIGNING_KEYS, testGateway, type TestGateway } from '../helpers/app.js';
import { streamEntryFields } from '../../src/store/redis/click-fields.js';

let gw: TestGateway;
let apiKey: string;

beforeAll(async () => {
  gw = await testGateway();
  ({ apiKey } = await gw.merchant());
});
afterAll(() => gw.close());

async function streamOf(merchant: string): Promise<Record<string, string>[]> {
  const entries = await gw.redis.redis.xrange(`${gw.redis.prefix}clicks:${merchant}`, '-', '+');
  return entries.map(([, fields]) => Object.fromEntries(streamEntryFields(fields)));
}

describe('GET /:code', () => {
  it('answers 302 to the destination, keeping its query and appending signed attribution parameters', async () => {
    const link = await gw.mint(apiKey, { url: 'https://item.taobao.com/item.htm?id=123&spm=a1', noteId: 'note-42', campaignId: 'spring' });
    const res = await gw.request(`/${link.code}`);

    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('https://item.taobao.com/item.htm');
    expect(location.searchParams.get('id')).toBe('123');
    expect(location.searchParams.get('spm')).toBe('a1');
    expect(location.searchParams.get('hl_lid')).toBe(link.code);
    expect(location.searchParams.get('hl_nid')).toBe('note-42');
    expect(location.searchParams.get('hl_kid')).toBe(SIGNING_KEYS[0]?.id);
    expect(Number(location.searchParams.get('hl_ts'))).toBe(Math.floor(gw.clock.now / 1000));
    expect(location.searchParams.get('hl_cid')).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(location.searchParams.get('hl_sig')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('signs a landing URL that the exported verifier accepts, naming the click, link and note', async () => {
    const link = await gw.mint(apiKey, { noteId: 'note-7' });
    const landing = (await gw.request(`/${link.code}`)).headers.get('location') ?? '';
    const verdict = verifyAttribution(landing, SIGNING_KEYS, { nowMs: gw.clock.now });

    expect(verdict).toMatchObject({ valid: true, linkCode: link.code, noteId: 'note-7', destination: link.url, keyId: 'k2' });
    expect(verdict.valid && verdict.clickId).toBe(new URL(landing).searchParams.get('hl_cid'));
  });

  it('puts the parameters before a fragment, so the store receives them', async () => {
    const link = await gw.mint(apiKey, { url: 'https://detail.tmall.com/item.htm?id=9#reviews' });
    const landing = (await gw.request(`/${link.code}`)).headers.get('location') ?? '';

    expect(landing).toMatch(/^https:\/\/detail\.tmall\.com\/item\.htm\?id=9&hl_cid=[^#]+#reviews$/);
    expect(verifyAttribution(landing, SIGNING_KEYS, { nowMs: gw.clock.now }).valid).toBe(true);
  });

  it('starts the query with "?" when the destination has none', async () => {
    const link = await gw.mint(apiKey, { url: 'https://shop.taobao.com/' });
    const landing = (await gw.request(`/${link.code}`)).headers.get('location') ?? '';
    expect(landing.startsWith('https://shop.taobao.com/?hl_cid=')).toBe(true);
  });

  it('mints a new click id for every tap', async () => {
    const link = await gw.mint(apiKey);
    const ids = new Set<string | null>();
    for (let i = 0; i < 20; i++) {
      ids.add(new URL((await gw.request(`/${link.code}`)).headers.get('location') ?? '').searchParams.get('hl_cid'));
    }
    expect(ids.size).toBe(20);
  });

  it('writes every tap to Redis: one stream record per redirect and the per-link counter', async () => {
    const iPhone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    const other = await gw.merchant('Clicks only');
    const link = await gw.mint(other.apiKey, { noteId: 'note-c', campaignId: 'camp-c' });
    const served: string[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await gw.request(`/${link.code}`, {
        headers: { 'user-agent': iPhone, referer: 'https://notes.example/n/1', 'accept-language': 'zh-CN', 'x-test-ip': `198.51.${100 + i}.23` },
      });
      expect(res.status).toBe(302);
      served.push(new URL(res.headers.get('location') ?? '').searchParams.get('hl_cid') ?? '');
    }
    await gw.clicks.flush();

    const records = await streamOf(other.id);
    expect(records.map((r) => r.clickId)).toEqual(served);
    expect(records[0]).toMatchObject({
      linkCode: link.code,
      merchantId: other.id,
      noteId: 'note-c',
      campaignId: 'camp-c',
      userAgent: iPhone,
      referrer: 'https://notes.example/n/1',
      acceptLanguage: 'zh-CN',
      ipPrefix: '198.51.100.0/24',
      kind: 'unique',
      bot: '0',
      deviceType: 'mobile',
      platform: 'ios',
      os: 'iOS',
      route: 'web',
      at: String(gw.clock.now),
    });
    expect(JSON.stringify(records)).not.toMatch(/198\.51\.\d+\.23/);
    const view = (await (await gw.request(`/v1/links/${link.code}`, { key: other.apiKey })).json()) as { clicks: number };
    expect(view.clicks).toBe(25);
  });

  it('does not count a HEAD request as a click', async () => {
    const link = await gw.mint(apiKey);
    const res = await gw.request(`/${link.code}`, { method: 'HEAD' });
    await gw.clicks.flush();

    expect(res.status).toBe(302);
    const view = (await (await gw.request(`/v1/links/${link.code}`, { key: apiKey })).json()) as { clicks: number };
    expect(view.clicks).toBe(0);
  });

  it('redirects before the click reaches Redis: the tap only queues it', async () => {
    const link = await gw.mint(apiKey);
    await gw.clicks.flush();
    const res = await gw.request(`/${link.code}`);

    expect(res.status).toBe(302);
    expect(gw.clicks.depth).toBe(1);
    await gw.clicks.flush();
    expect(gw.clicks.depth).toBe(0);
  });

  it('redirects to a custom slug', async () => {
    const link = await gw.mint(apiKey, { slug: 'spring-serum_01' });
    const res = await gw.request('/spring-serum_01');
    expect(link.code).toBe('spring-serum_01');
    expect(res.status).toBe(302);
  });

  it('serves the OpenAPI document for the merchant and admin API', async () => {
    const res = await gw.request('/openapi.json');
    const doc = (await res.json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, { required: string[] }> } };

    expect(res.status).toBe(200);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/links', '/v1/links/bulk', '/v1/links/{code}', '/v1/admin/merchants', '/v1/admin/merchants/{id}/categories']),
    );
    expect(doc.components.schemas.NewLink?.required).toEqual(expect.arrayContaining(['url', 'noteId', 'category']));
  });

  it('lists in the OpenAPI document the refusals the API really gives, and that a change names a field', async () => {
    const doc = (await (await gw.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { minProperties?: number }> };
    };
    const answers = (path: string, method: string) => Object.keys(doc.paths[path]?.[method]?.responses ?? {});
    expect(answers('/v1/links', 'post')).toEqual(expect.arrayContaining(['400', '401', '413', '415', '429', '503']));
    expect(answers('/v1/links/{code}', 'patch')).toEqual(expect.arrayContaining(['404', '409', '410', '429', '503']));
    expect(answers('/v1/links/{code}', 'delete')).toEqual(expect.arrayContaining(['404', '409']));
    expect(doc.components.schemas.LinkPatch?.minProperties).toBe(1);
  });
});
