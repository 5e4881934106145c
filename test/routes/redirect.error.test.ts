import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { ClickBuffer } from '../../src/clicks/buffer.js';
import { clickEnricher } from '../../src/clicks/enrich.js';
import { UserAgentCache } from '../../src/domain/user-agent.js';
import { testAppDeps, testGateway, type TestGateway } from '../helpers/app.js';

let gw: TestGateway;
let apiKey: string;

beforeAll(async () => {
  gw = await testGateway();
  ({ apiKey } = await gw.merchant());
});
afterAll(() => gw.close());

const asBrowser = { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } };

async function expectProblem(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('location')).toBeNull();
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: `https://hanglink.dev/problems/${type}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
}

async function clicksOf(code: string): Promise<number> {
  await gw.clicks.flush();
  return ((await (await gw.request(`/v1/links/${code}`, { key: apiKey })).json()) as { clicks: number }).clicks;
}

describe('GET /:code refusals', () => {
  it('answers 404 with a problem for an unknown code', async () => {
    await expectProblem(await gw.request('/NoSuchCode'), 404, 'link-not-found');
  });

  it('answers a browser with a small HTML page instead', async () => {
    const res = await gw.request('/NoSuchCode', asBrowser);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('Link not found');
  });

  it.each(['/ab', '/a.b.c', '/%3Cscript%3E', `/${'x'.repeat(65)}`])('answers 404 for %s, which no link can have', async (path) => {
    await expectProblem(await gw.request(path), 404, 'link-not-found');
  });

  it('answers 410 for a paused link, counts no click, and redirects again once resumed', async () => {
    const link = await gw.mint(apiKey);
    await gw.request(`/v1/links/${link.code}`, { method: 'PATCH', key: apiKey, json: { status: 'paused' } });

    await expectProblem(await gw.request(`/${link.code}`), 410, 'link-paused');
    expect(await clicksOf(link.code)).toBe(0);
    await gw.request(`/v1/links/${link.code}`, { method: 'PATCH', key: apiKey, json: { status: 'active' } });
    expect((await gw.request(`/${link.code}`)).status).toBe(302);
  });

  it('answers 410 for a deleted link, to a browser with a page', async () => {
    const link = await gw.mint(apiKey);
    await gw.request(`/v1/links/${link.code}`, { method: 'DELETE', key: apiKey });

    await expectProblem(await gw.request(`/${link.code}`), 410, 'link-deleted');
    const page = await gw.request(`/${link.code}`, asBrowser);
    expect(page.status).toBe(410);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('answers 410 once a link has expired, and not before', async () => {
    const expiresAt = new Date(gw.clock.now + 60_000).toISOString();
    const link = await gw.mint(apiKey, { expiresAt });

    expect((await gw.request(`/${link.code}`)).status).toBe(302);
    gw.clock.now += 60_000;
    try {
      await expectProblem(await gw.request(`/${link.code}`), 410, 'link-expired');
    } finally {
      gw.clock.now -= 60_000;
    }
  });

  it('stops redirecting to a host the operator removed from the allowed hosts', async () => {
    const link = await gw.mint(apiKey, { url: 'https://detail.tmall.com/item.htm?id=5' });
    const taobaoOnly = createApp(testAppDeps(gw.store, gw.clicks, gw.clock, { allowedHosts: ['.taobao.com'] })).app;

    const res = await taobaoOnly.request(`/${link.code}`);
    await expectProblem(res, 410, 'link-destination-not-allowed');
  });

  it('is seen by another gateway process within the cache lifetime (one second) after a change', async () => {
    const link = await gw.mint(apiKey);
    const clicks = new ClickBuffer(gw.store, { enrich: clickEnricher(new UserAgentCache()), batchSize: 100, maxBuffered: 1000 });
    const other = createApp(testAppDeps(gw.store, clicks, gw.clock)).app;
    expect((await other.request(`/${link.code}`)).status).toBe(302);

    await gw.request(`/v1/links/${link.code}`, { method: 'PATCH', key: apiKey, json: { status: 'paused' } });
    gw.clock.now += 1001;
    try {
      expect((await other.request(`/${link.code}`)).status).toBe(410);
    } finally {
      gw.clock.now -= 1001;
      await clicks.close();
    }
  });
});
