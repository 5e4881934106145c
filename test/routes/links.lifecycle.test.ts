import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOPPER_USER_AGENT, testGateway, type TestGateway } from '../helpers/app.js';
import { userAgentOf } from '../fixtures/user-agents.js';

/**
 * A link's life over HTTP: expiry, pause and resume, a click cap, deletion, and a destination
 * change, each seen by the very next tap.
 */

let gw: TestGateway;
let apiKey: string;

beforeAll(async () => {
  gw = await testGateway();
  ({ apiKey } = await gw.merchant('Lifecycle'));
});
afterAll(() => gw.close());

let visitor = 0;
/** A tap by a visitor never seen before, so each human tap is a unique, billable click. */
const tap = (code: string, userAgent = SHOPPER_USER_AGENT) =>
  gw.request(`/${code}`, { headers: { 'user-agent': userAgent, 'x-test-ip': `10.${Math.floor(++visitor / 256)}.${visitor % 256}.1` } });

const patch = (code: string, json: Record<string, unknown>) => gw.request(`/v1/links/${code}`, { method: 'PATCH', key: apiKey, json });

async function read(code: string): Promise<Record<string, unknown>> {
  const res = await gw.request(`/v1/links/${code}`, { key: apiKey });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function expectGone(res: Response, reason: string): Promise<void> {
  expect(res.status).toBe(410);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(await res.json()).toMatchObject({ status: 410, type: `https://hanglink.dev/problems/link-${reason}` });
}

/** Writes the buffered clicks and lets the redirect cache (1 s in tests) go stale, as time passing would. */
async function settle(): Promise<void> {
  await gw.flush();
  gw.clock.now += 1001;
}

describe('maxClicks', () => {
  it('redirects up to the cap, then answers 410 link-click-cap-reached; clearing the cap reopens the link', async () => {
    const link = await gw.mint(apiKey, { maxClicks: 3 });
    expect(link.maxClicks).toBe(3);

    for (let i = 0; i < 3; i++) expect((await tap(link.code)).status).toBe(302);
    // This process counted its own taps, so the cap holds before they are even written.
    await expectGone(await tap(link.code), 'click-cap-reached');

    await settle();
    // Read back from the store with the link, the count still closes it.
    await expectGone(await tap(link.code), 'click-cap-reached');
    await settle();
    expect(await read(link.code)).toMatchObject({ clicks: 3, maxClicks: 3, status: 'active' });

    const res = await patch(link.code, { maxClicks: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ maxClicks: null, clicks: 3 });
    expect((await tap(link.code)).status).toBe(302);
    await settle();
    expect(await read(link.code)).toMatchObject({ clicks: 4 });
  });

  it('raising the cap lets exactly the difference through', async () => {
    const link = await gw.mint(apiKey, { maxClicks: 1 });
    expect((await tap(link.code)).status).toBe(302);
    await settle();
    await expectGone(await tap(link.code), 'click-cap-reached');

    expect((await patch(link.code, { maxClicks: 3 })).status).toBe(200);
    expect((await tap(link.code)).status).toBe(302);
    expect((await tap(link.code)).status).toBe(302);
    await expectGone(await tap(link.code), 'click-cap-reached');
    await settle();
    await expectGone(await tap(link.code), 'click-cap-reached');
    expect(await read(link.code)).toMatchObject({ clicks: 3 });
  });

  it('counts repeat taps, which are billable, towards the cap', async () => {
    const link = await gw.mint(apiKey, { maxClicks: 2 });
    const sameVisitor = () => gw.request(`/${link.code}`, { headers: { 'x-test-ip': '203.0.113.50' } });
    expect((await sameVisitor()).status).toBe(302);
    expect((await sameVisitor()).status).toBe(302);
    await settle();
    await expectGone(await sameVisitor(), 'click-cap-reached');
    expect(await read(link.code)).toMatchObject({ clicks: 2 });
  });

  it('does not let one visitor’s flood use up the cap: taps past the flood limit are not billable', async () => {
    const link = await gw.mint(apiKey, { maxClicks: 25 });
    const flooder = () => gw.request(`/${link.code}`, { headers: { 'x-test-ip': '203.0.113.60' } });
    // The flood limit is 20 taps a minute: 1 unique, 19 repeats, then 10 suspect taps.
    for (let i = 0; i < 30; i++) expect((await flooder()).status, `tap ${i + 1}`).toBe(302);
    for (let i = 0; i < 5; i++) expect((await tap(link.code)).status).toBe(302);
    await expectGone(await tap(link.code), 'click-cap-reached');
    await settle();
    expect(await read(link.code)).toMatchObject({ clicks: 25 });
    await expectGone(await tap(link.code), 'click-cap-reached');
  });

  it('does not let bots and link previews use up the cap', async () => {
    const link = await gw.mint(apiKey, { maxClicks: 1 });
    // A chat app unfurls the link as it is shared, then the shopper taps it.
    for (const name of ['Slackbot-LinkExpanding', 'WhatsApp', 'facebookexternalhit']) {
      expect((await tap(link.code, userAgentOf(name))).status).toBe(302);
    }
    expect((await tap(link.code)).status).toBe(302);
    await expectGone(await tap(link.code), 'click-cap-reached');
    await settle();
    expect(await read(link.code)).toMatchObject({ clicks: 1 });
    await expectGone(await tap(link.code), 'click-cap-reached');
  });

  it('does not count a HEAD or a prefetch towards the cap', async () => {
    const link = await gw.mint(apiKey, { maxClicks: 1 });
    expect((await gw.request(`/${link.code}`, { method: 'HEAD' })).status).toBe(302);
    expect((await gw.request(`/${link.code}`, { headers: { 'sec-purpose': 'prefetch' } })).status).toBe(302);
    expect((await tap(link.code)).status).toBe(302);
    await expectGone(await tap(link.code), 'click-cap-reached');
  });
});

describe('expiresAt', () => {
  it('redirects until the expiry, then answers 410 link-expired; a later expiry reopens it', async () => {
    const expiresAt = new Date(gw.clock.now + 60_000).toISOString();
    const link = await gw.mint(apiKey, { expiresAt });
    expect(link.expiresAt).toBe(expiresAt);

    gw.clock.now += 59_000;
    expect((await tap(link.code)).status).toBe(302);
    gw.clock.now += 1_000;
    await expectGone(await tap(link.code), 'expired');

    const later = new Date(gw.clock.now + 3_600_000).toISOString();
    expect((await patch(link.code, { expiresAt: later })).status).toBe(200);
    expect((await tap(link.code)).status).toBe(302);

    gw.clock.now += 3_600_000;
    await expectGone(await tap(link.code), 'expired');
    expect((await patch(link.code, { expiresAt: null })).status).toBe(200);
    expect((await tap(link.code)).status).toBe(302);
    gw.clock.now += 365 * 24 * 3_600_000;
    expect((await tap(link.code)).status).toBe(302);
    expect(await read(link.code)).toMatchObject({ expiresAt: null, status: 'active' });
  });

  it('refuses an expiry in the past and leaves the link as it was', async () => {
    const link = await gw.mint(apiKey);
    const res = await patch(link.code, { expiresAt: new Date(gw.clock.now - 1000).toISOString() });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'https://hanglink.dev/problems/invalid-expiry', field: 'expiresAt' });
    expect(await read(link.code)).toMatchObject({ expiresAt: null });
    expect((await tap(link.code)).status).toBe(302);
  });
});

describe('pause and resume', () => {
  it('answers 410 link-paused while paused, counting nothing, and redirects again once resumed', async () => {
    const link = await gw.mint(apiKey);
    expect((await tap(link.code)).status).toBe(302);

    const paused = await patch(link.code, { status: 'paused' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ status: 'paused' });
    await expectGone(await tap(link.code), 'paused');
    await expectGone(await tap(link.code), 'paused');
    await settle();
    await expectGone(await tap(link.code), 'paused');
    expect(await read(link.code)).toMatchObject({ status: 'paused', clicks: 1 });

    const resumed = await patch(link.code, { status: 'active' });
    expect(resumed.status).toBe(200);
    expect((await tap(link.code)).status).toBe(302);
    await settle();
    expect(await read(link.code)).toMatchObject({ status: 'active', clicks: 2 });
  });

  it('shows a browser a page rather than a problem document', async () => {
    const link = await gw.mint(apiKey);
    expect((await patch(link.code, { status: 'paused' })).status).toBe(200);
    const res = await gw.request(`/${link.code}`, { headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(res.status).toBe(410);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('paused');
  });
});

describe('delete', () => {
  it('answers 410 link-deleted from the next tap on, for good', async () => {
    const link = await gw.mint(apiKey, { maxClicks: 10, expiresAt: new Date(gw.clock.now + 3_600_000).toISOString() });
    expect((await tap(link.code)).status).toBe(302);

    expect((await gw.request(`/v1/links/${link.code}`, { method: 'DELETE', key: apiKey })).status).toBe(204);
    await expectGone(await tap(link.code), 'deleted');
    await settle();
    await expectGone(await tap(link.code), 'deleted');

    // A deleted link cannot be resumed or reopened.
    for (const change of [{ status: 'active' }, { maxClicks: null }, { expiresAt: null }]) {
      const res = await patch(link.code, change);
      expect(res.status).toBe(410);
      expect(await res.json()).toMatchObject({ type: 'https://hanglink.dev/problems/link-deleted' });
    }
    await expectGone(await tap(link.code), 'deleted');
    // Deleting again is harmless.
    expect((await gw.request(`/v1/links/${link.code}`, { method: 'DELETE', key: apiKey })).status).toBe(204);
  });
});

describe('changes at the same moment', () => {
  it('a PATCH racing a DELETE never brings the link back, and changes racing each other both land', async () => {
    const links = await Promise.all(Array.from({ length: 10 }, () => gw.mint(apiKey, {})));
    await Promise.all(
      links.map(async (link) => {
        const answers = await Promise.all([
          patch(link.code, { url: 'https://item.taobao.com/item.htm?id=77' }),
          gw.request(`/v1/links/${link.code}`, { method: 'DELETE', key: apiKey }),
          patch(link.code, { maxClicks: 5 }),
        ]);
        // A PATCH that comes after the delete is refused as gone; one before it is overtaken by it.
        expect(answers.map((res) => res.status).sort()).toEqual(expect.arrayContaining([204]));
        for (const res of answers) expect([200, 204, 410]).toContain(res.status);
      }),
    );
    await settle();
    for (const link of links) {
      expect((await read(link.code)).status).toBe('deleted');
      await expectGone(await tap(link.code), 'deleted');
    }

    const busy = await gw.mint(apiKey, {});
    const [moved, capped] = await Promise.all([patch(busy.code, { url: 'https://item.taobao.com/item.htm?id=88' }), patch(busy.code, { maxClicks: 7 })]);
    expect([moved.status, capped.status]).toEqual([200, 200]);
    expect(await read(busy.code)).toMatchObject({ url: 'https://item.taobao.com/item.htm?id=88', maxClicks: 7 });
  });

  it('lands every one of eight changes made at once, each to another field', async () => {
    const link = await gw.mint(apiKey, {});
    const changes = [
      { url: 'https://item.taobao.com/item.htm?id=99' },
      { maxClicks: 9 },
      { expiresAt: new Date(gw.clock.now + 86_400_000).toISOString() },
      { appUrl: 'taobao://item.taobao.com/item.htm?id=99' },
      { ios: 'https://h5.m.taobao.com/awp/core/detail.htm?id=99' },
      { android: 'https://main.m.taobao.com/detail/index.html?id=99' },
      { desktop: 'https://detail.tmall.com/item.htm?id=99' },
      { status: 'paused' },
    ];
    const answers = await Promise.all(changes.map((change) => patch(link.code, change)));
    expect(answers.map((res) => res.status)).toEqual(changes.map(() => 200));
    expect(await read(link.code)).toMatchObject(Object.assign({}, ...changes));
  });
});

describe('changing the destination', () => {
  it('sends the very next tap to the new url', async () => {
    const link = await gw.mint(apiKey, { url: 'https://item.taobao.com/item.htm?id=1' });
    expect((await tap(link.code)).headers.get('location')).toMatch(/^https:\/\/item\.taobao\.com\/item\.htm\?id=1&hl_cid=/);

    expect((await patch(link.code, { url: 'https://detail.tmall.com/item.htm?id=2' })).status).toBe(200);
    expect((await tap(link.code)).headers.get('location')).toMatch(/^https:\/\/detail\.tmall\.com\/item\.htm\?id=2&hl_cid=/);
  });
});
