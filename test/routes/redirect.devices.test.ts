import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAttribution } from '../../src/domain/attribution.js';
import { SIGNING_KEYS, testGateway, type TestGateway } from '../helpers/app.js';
import { userAgentOf } from '../fixtures/user-agents.js';
import { streamEntryFields } from '../../src/store/redis/click-fields.js';

/**
 * Device routing over HTTP: one tap, one hop to the app where the phone allows it, a web page
 * everywhere else, and the same signed click on every route.
 */

const MAIN = 'https://item.taobao.com/item.htm?id=123';
const APP = 'taobao://item.taobao.com/item.htm?id=123';
const IOS = 'https://h5.m.taobao.com/awp/core/detail.htm?id=123';
const ANDROID = 'https://main.m.taobao.com/detail/index.html?id=123';
const DESKTOP = 'https://detail.tmall.com/item.htm?id=123&pc=1';

let gw: TestGateway;
let merchant: { id: string; apiKey: string };

beforeAll(async () => {
  gw = await testGateway();
  merchant = await gw.merchant('Devices');
});
afterAll(() => gw.close());

let ipCounter = 0;
/** A tap by a new visitor each time, so every record is the visitor's first. */
const tap = (code: string, userAgentName: string) =>
  gw.request(`/${code}`, { headers: { 'user-agent': userAgentOf(userAgentName), 'x-test-ip': `198.18.${++ipCounter}.9` } });

function verified(url: string, code: string, destination: string) {
  const verdict = verifyAttribution(url, SIGNING_KEYS, { nowMs: gw.clock.now });
  expect(verdict, url).toMatchObject({ valid: true, destination, linkCode: code, noteId: 'note-42', keyId: SIGNING_KEYS[0]?.id });
  if (!verdict.valid) throw new Error(`${url} does not verify: ${verdict.reason}`);
  return verdict;
}

const unescapeHtml = (text: string) => text.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

/** The app link and the web fallback of the iPhone interstitial page. */
function interstitialLinks(html: string): { app: string; web: string; refresh: string } {
  const found = new Map<string, string>();
  for (const [, id, value] of html.matchAll(/<a id="([a-z]+)" href="([^"]*)"/g)) found.set(id as string, unescapeHtml(value as string));
  const refresh = /<meta http-equiv="refresh" content="0;url=([^"]*)">/.exec(html)?.[1];
  return { app: found.get('app') ?? '', web: found.get('web') ?? '', refresh: unescapeHtml(refresh ?? '') };
}

/** The parts of Chrome's intent URL: the app link it stands for and the decoded browser fallback. */
function intentParts(location: string): { app: string; fallback: string } {
  const match = /^intent:\/\/([^#]+)#Intent;scheme=([a-z]+);S\.browser_fallback_url=([^;]+);end$/.exec(location);
  expect(match, location).not.toBeNull();
  const [, rest, scheme, fallback] = match as unknown as [string, string, string, string];
  return { app: `${scheme}://${rest}`, fallback: decodeURIComponent(fallback) };
}

const clickIdOfUrl = (url: string) => /[?&]hl_cid=([A-Za-z0-9_-]+)/.exec(url)?.[1] ?? '';

async function routeOf(clickId: string): Promise<string | undefined> {
  await gw.flush();
  const entries = await gw.redis.redis.xrange(`${gw.redis.prefix}clicks:${merchant.id}`, '-', '+');
  for (const [, fields] of entries) {
    const record = streamEntryFields(fields);
    if (record.get('clickId') === clickId) {
      expect(record.get('kind')).toBeDefined();
      return record.get('route');
    }
  }
  return undefined;
}

/** Expects a plain 302 to the signed destination, and the click recorded with this route. */
async function expectRedirect(res: Response, code: string, destination: string, route: string): Promise<void> {
  expect(res.status).toBe(302);
  const location = res.headers.get('location') ?? '';
  expect(location.startsWith(`${destination}&hl_cid=`), location).toBe(true);
  const { clickId } = verified(location, code, destination);
  expect(await routeOf(clickId)).toBe(route);
}

describe('a link with an app link and a destination per platform', () => {
  let code: string;
  beforeAll(async () => {
    code = (await gw.mint(merchant.apiKey, { url: MAIN, appUrl: APP, ios: IOS, android: ANDROID, desktop: DESKTOP })).code;
  });

  it.each(['iPhone Safari', 'iPad Safari'])('%s gets a 200 page that tries the signed app link and falls back to the signed ios page', async (name) => {
    const res = await tap(code, name);

    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const { app, web, refresh } = interstitialLinks(await res.text());

    expect(app.startsWith(`${APP}&hl_cid=`), app).toBe(true);
    expect(web.startsWith(`${IOS}&hl_cid=`), web).toBe(true);
    expect(refresh).toBe(web);
    const appVerdict = verified(app, code, APP);
    const webVerdict = verified(web, code, IOS);
    // One tap, one click: both routes carry the same click id, timestamp and key.
    expect(appVerdict.clickId).toBe(webVerdict.clickId);
    expect(appVerdict.timestamp).toBe(webVerdict.timestamp);
    expect(clickIdOfUrl(app)).toBe(clickIdOfUrl(web));
    expect(await routeOf(appVerdict.clickId)).toBe('app');
  });

  it.each(['Android Chrome', 'Android tablet'])('%s gets a 302 intent URL: the signed app link, falling back to the signed android page', async (name) => {
    const res = await tap(code, name);

    expect(res.status).toBe(302);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(/^intent:\/\/item\.taobao\.com\/item\.htm\?id=123&hl_cid=[^#]+#Intent;scheme=taobao;S\.browser_fallback_url=[^;]+;end$/);
    const { app, fallback } = intentParts(location);

    expect(fallback.startsWith(`${ANDROID}&hl_cid=`), fallback).toBe(true);
    const appVerdict = verified(app, code, APP);
    const webVerdict = verified(fallback, code, ANDROID);
    expect(appVerdict.clickId).toBe(webVerdict.clickId);
    expect(await routeOf(appVerdict.clickId)).toBe('app');
  });

  it.each([
    ['iPhone in WeChat', IOS, 'ios'],
    ['iPhone in Xiaohongshu', IOS, 'ios'],
    ['iPad in WeChat', IOS, 'ios'],
    ['Android in WeChat', ANDROID, 'android'],
    ['Android in Douyin', ANDROID, 'android'],
  ])('%s (an app web view, which blocks other apps) gets a 302 to its platform page, no intent', async (name, destination, route) => {
    const res = await tap(code, name);
    expect(res.headers.get('location')).not.toMatch(/^intent:|^taobao:/);
    await expectRedirect(res, code, destination, route);
  });

  it.each(['Windows Chrome', 'macOS Safari', 'Linux Firefox'])('%s on a desktop gets a 302 to the desktop page', async (name) => {
    await expectRedirect(await tap(code, name), code, DESKTOP, 'desktop');
  });

  it.each(['Googlebot', 'Googlebot smartphone', 'Applebot', 'facebookexternalhit', 'WhatsApp'])(
    '%s gets a 302 to the main url, whatever device it poses as',
    async (name) => {
      await expectRedirect(await tap(code, name), code, MAIN, 'web');
    },
  );

  it('sends a phone the router does not single out (HarmonyOS) to the main url', async () => {
    await expectRedirect(await tap(code, 'Huawei phone on HarmonyOS'), code, MAIN, 'web');
  });

  it('a HEAD request is routed the same way but records nothing', async () => {
    const res = await gw.request(`/${code}`, { method: 'HEAD', headers: { 'user-agent': userAgentOf('Android Chrome'), 'x-test-ip': '192.0.2.200' } });
    expect(res.status).toBe(302);
    const { app } = intentParts(res.headers.get('location') ?? '');
    expect(await routeOf(verified(app, code, APP).clickId)).toBeUndefined();
  });
});

describe('a link with platform pages but no app link', () => {
  let code: string;
  beforeAll(async () => {
    code = (await gw.mint(merchant.apiKey, { url: MAIN, ios: IOS, android: ANDROID })).code;
  });

  it('sends an iPhone straight to the ios page', async () => {
    await expectRedirect(await tap(code, 'iPhone Safari'), code, IOS, 'ios');
  });

  it('sends an Android phone straight to the android page', async () => {
    await expectRedirect(await tap(code, 'Android Chrome'), code, ANDROID, 'android');
  });

  it('sends an unknown platform to the main url', async () => {
    await expectRedirect(await tap(code, 'Huawei phone on HarmonyOS'), code, MAIN, 'web');
  });

  it('sends a desktop to the main url when the link names no desktop page', async () => {
    await expectRedirect(await tap(code, 'Windows Chrome'), code, MAIN, 'web');
  });
});

describe('a link with only an app link', () => {
  let code: string;
  beforeAll(async () => {
    code = (await gw.mint(merchant.apiKey, { url: MAIN, appUrl: APP })).code;
  });

  it('falls back to the main url on an iPhone', async () => {
    const res = await tap(code, 'iPhone Safari');
    expect(res.status).toBe(200);
    const { app, web } = interstitialLinks(await res.text());
    expect(verified(app, code, APP).clickId).toBe(verified(web, code, MAIN).clickId);
  });

  it('falls back to the main url on Android', async () => {
    const res = await tap(code, 'Android Chrome');
    expect(res.status).toBe(302);
    const { app, fallback } = intentParts(res.headers.get('location') ?? '');
    expect(verified(app, code, APP).clickId).toBe(verified(fallback, code, MAIN).clickId);
  });

  it('sends a desktop and an in-app view to the main url', async () => {
    await expectRedirect(await tap(code, 'macOS Safari'), code, MAIN, 'web');
    await expectRedirect(await tap(code, 'iPhone in WeChat'), code, MAIN, 'web');
  });
});

describe('changing the routes', () => {
  const patch = (code: string, json: Record<string, unknown>) =>
    gw.request(`/v1/links/${code}`, { method: 'PATCH', key: merchant.apiKey, json });

  it('takes a new android page on the very next tap', async () => {
    const { code } = await gw.mint(merchant.apiKey, { url: MAIN, appUrl: APP, ios: IOS, android: ANDROID });
    const before = intentParts((await tap(code, 'Android Chrome')).headers.get('location') ?? '');
    verified(before.fallback, code, ANDROID);

    const NEW_ANDROID = 'https://m.tmall.com/item.htm?id=456';
    const res = await patch(code, { android: NEW_ANDROID });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ android: NEW_ANDROID, appUrl: APP, ios: IOS });

    const after = intentParts((await tap(code, 'Android Chrome')).headers.get('location') ?? '');
    expect(verified(after.app, code, APP).clickId).toBe(verified(after.fallback, code, NEW_ANDROID).clickId);
    // The other platforms keep their routes.
    const { web } = interstitialLinks(await (await tap(code, 'iPhone Safari')).text());
    verified(web, code, IOS);
  });

  it('drops the app hop once appUrl is cleared, and falls back to the main url once android is', async () => {
    const { code } = await gw.mint(merchant.apiKey, { url: MAIN, appUrl: APP, android: ANDROID });
    expect((await tap(code, 'Android Chrome')).headers.get('location')).toMatch(/^intent:/);

    expect((await patch(code, { appUrl: null })).status).toBe(200);
    await expectRedirect(await tap(code, 'Android Chrome'), code, ANDROID, 'android');

    expect((await patch(code, { android: null })).status).toBe(200);
    await expectRedirect(await tap(code, 'Android Chrome'), code, MAIN, 'web');
  });

  it('adds the app hop on the next tap once an appUrl is set', async () => {
    const { code } = await gw.mint(merchant.apiKey, { url: MAIN });
    await expectRedirect(await tap(code, 'iPhone Safari'), code, MAIN, 'web');

    expect((await patch(code, { appUrl: 'tmall://detail.tmall.com/item.htm?id=9' })).status).toBe(200);
    const res = await tap(code, 'iPhone Safari');
    expect(res.status).toBe(200);
    const { app, web } = interstitialLinks(await res.text());
    expect(verified(app, code, 'tmall://detail.tmall.com/item.htm?id=9').clickId).toBe(verified(web, code, MAIN).clickId);
  });
});
