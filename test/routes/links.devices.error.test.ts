import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGateway, type TestGateway } from '../helpers/app.js';
import { namespaceSnapshot } from '../helpers/snapshot.js';

/**
 * Refused device routes and click caps: a 400 problem naming the field, and nothing stored or
 * changed, whether the link is being minted or patched.
 */

let gw: TestGateway;
let apiKey: string;
/** A link with every route set, which refused patches must leave exactly as it is. */
let existing: Record<string, unknown>;

const ROUTES = {
  url: 'https://item.taobao.com/item.htm?id=123',
  appUrl: 'taobao://item.taobao.com/item.htm?id=123',
  ios: 'https://h5.m.taobao.com/awp/core/detail.htm?id=123',
  android: 'https://main.m.taobao.com/detail/index.html?id=123',
  desktop: 'https://detail.tmall.com/item.htm?id=123',
  maxClicks: 50,
};

beforeAll(async () => {
  gw = await testGateway();
  ({ apiKey } = await gw.merchant('Device errors'));
  existing = { ...(await gw.mint(apiKey, ROUTES)) };
});
afterAll(() => gw.close());

const mint = (extra: Record<string, unknown>) =>
  gw.request('/v1/links', { method: 'POST', key: apiKey, json: { url: ROUTES.url, noteId: 'note-e', category: 'beauty', ...extra } });
const patch = (json: Record<string, unknown>) => gw.request(`/v1/links/${existing.code as string}`, { method: 'PATCH', key: apiKey, json });

/** Sends a request that must be refused with 400, checks nothing in the namespace changed, and returns the problem. */
async function refused(send: () => Promise<Response>, type: string): Promise<Record<string, unknown>> {
  const before = await namespaceSnapshot(gw.redis);
  const res = await send();
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 400, type: `https://hanglink.dev/problems/${type}`, title: expect.any(String), detail: expect.any(String) });
  expect(await namespaceSnapshot(gw.redis)).toEqual(before);

  const { clicks: _clicks, updatedAt: _updatedAt, ...unchanged } = existing;
  const read = await gw.request(`/v1/links/${existing.code as string}`, { key: apiKey });
  expect(await read.json()).toMatchObject({ ...unchanged, updatedAt: existing.updatedAt });
  return body;
}

const BAD_APP_URLS: ReadonlyArray<[string, string, RegExp]> = [
  ['a scheme not allowed (weixin)', 'weixin://dl/business/?t=abc', /scheme "weixin"/],
  ['javascript:', 'javascript:alert(1)', /scheme:\/\/host/],
  ['javascript: shaped like an app link', 'javascript://item.taobao.com/%0Aalert(1)', /scheme "javascript"/],
  ['a web URL', 'https://item.taobao.com/item.htm?id=123', /scheme "https"/],
  ['an allowed scheme on a host not allowed', 'taobao://evil.example/x', /host "evil\.example"/],
  ['an allowed scheme on a look-alike host', 'tmall://detail.tmall.com.evil.example/x', /host/],
  ['user info', 'taobao://evil.example@item.taobao.com/x', /user info/],
  ['a fragment', 'taobao://item.taobao.com/item.htm?id=1#frag', /fragment/],
  ['an empty string', '', /non-empty/],
  ['attribution parameters of its own', 'taobao://item.taobao.com/item.htm?id=1&hl_cid=planted', /hl_ parameters/],
];

describe('appUrl', () => {
  it.each(BAD_APP_URLS)('refuses %s when minting', async (_name, appUrl, detail) => {
    const body = await refused(() => mint({ appUrl }), 'invalid-app-url');
    expect(body).toMatchObject({ field: 'appUrl' });
    expect(body.detail).toMatch(detail);
  });

  it.each(BAD_APP_URLS)('refuses %s when patching', async (_name, appUrl, detail) => {
    const body = await refused(() => patch({ appUrl }), 'invalid-app-url');
    expect(body).toMatchObject({ field: 'appUrl' });
    expect(body.detail).toMatch(detail);
  });

  it('refuses a non-string appUrl as a validation failure naming the field', async () => {
    for (const send of [() => mint({ appUrl: 42 }), () => patch({ appUrl: ['taobao://item.taobao.com/x'] })]) {
      const body = await refused(send, 'validation-failed');
      expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'appUrl' })]));
    }
  });
});

describe('ios, android and desktop destinations', () => {
  const FIELDS = ['ios', 'android', 'desktop'] as const;
  const BAD: ReadonlyArray<[string, string, string]> = [
    ['a host not allowed', 'https://evil.example/item.htm?id=1', 'destination-not-allowed'],
    ['an allowed name as a subdomain of another host', 'https://m.taobao.com.evil.example/x', 'destination-not-allowed'],
    ['http', 'http://item.taobao.com/item.htm?id=1', 'invalid-destination'],
    ['an app scheme', 'taobao://item.taobao.com/item.htm?id=1', 'invalid-destination'],
    ['javascript:', 'javascript:alert(1)', 'invalid-destination'],
    ['a port', 'https://item.taobao.com:8443/item.htm', 'invalid-destination'],
    ['attribution parameters of its own', 'https://item.taobao.com/item.htm?id=1&hl_sig=planted', 'invalid-destination'],
  ];
  const cases = FIELDS.flatMap((field) => BAD.map(([name, url, type]) => [field, name, url, type] as const));

  it.each(cases)('refuses %s on %s when minting', async (field, _name, url, type) => {
    const body = await refused(() => mint({ [field]: url }), type);
    expect(body).toMatchObject({ field });
  });

  it.each(cases)('refuses %s on %s when patching', async (field, _name, url, type) => {
    const body = await refused(() => patch({ [field]: url }), type);
    expect(body).toMatchObject({ field });
  });

  it('refuses the whole patch when one route is bad, keeping the good ones out too', async () => {
    const body = await refused(() => patch({ ios: 'https://m.taobao.com/new', android: 'https://evil.example/x', maxClicks: 99 }), 'destination-not-allowed');
    expect(body).toMatchObject({ field: 'android' });
  });
});

describe('maxClicks', () => {
  it.each([
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['"10"', '10'],
    ['true', true],
    ['2^53', 2 ** 53],
  ])('refuses %s when minting and when patching', async (_name, maxClicks) => {
    for (const send of [() => mint({ maxClicks }), () => patch({ maxClicks })]) {
      const body = await refused(send, 'validation-failed');
      expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'maxClicks' })]));
      expect(body.detail).toMatch(/^maxClicks: /);
    }
  });
});

describe('the refused link stays usable', () => {
  it('still routes every device as before all those refusals', async () => {
    const code = existing.code as string;
    const android = await gw.request(`/${code}`, {
      headers: { 'user-agent': 'Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36' },
    });
    expect(android.status).toBe(302);
    expect(android.headers.get('location')).toMatch(
      /^intent:\/\/item\.taobao\.com\/item\.htm\?id=123&hl_cid=.+;S\.browser_fallback_url=https%3A%2F%2Fmain\.m\.taobao\.com%2F/,
    );
  });
});
