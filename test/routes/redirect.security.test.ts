import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAllowed } from '../../src/domain/destination.js';
import { userAgentOf } from '../fixtures/user-agents.js';
import { testGateway, type TestGateway } from '../helpers/app.js';

const CORPUS = new URL('../../../shared/corpora/open-redirect-payloads.txt', import.meta.url);
const ALLOWED = ['.taobao.com', '.tmall.com'];

let gw: TestGateway;
let apiKey: string;

beforeAll(async () => {
  gw = await testGateway({ allowedHosts: ALLOWED });
  ({ apiKey } = await gw.merchant());
});
afterAll(() => gw.close());

describe('the redirect never leads off the allowed hosts', () => {
  it.each(['//evil.example', '/\\evil.example', '/%2F%2Fevil.example', '/https:%2F%2Fevil.example', '/..%2F..%2Fevil'])(
    'a crafted path %s gets a 404 and no Location',
    async (path) => {
      const res = await gw.request(path);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get('location')).toBeNull();
    },
  );

  it('does not echo a requested path into the HTML page', async () => {
    const res = await gw.request('/%3Cscript%3Ealert(1)%3C%2Fscript%3E', { headers: { accept: 'text/html' } });
    expect(await res.text()).not.toMatch(/<script>|alert\(1\)/);
  });

  const corpusPresent = existsSync(CORPUS);
  /** The corpus lines, with its stand-in for an allowed host replaced by one of ours. */
  const corpusPayloads = () =>
    readFileSync(CORPUS, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((line) => line.replaceAll('www.whitelisteddomain.tld', 'item.taobao.com'));
  if (!corpusPresent) console.warn('open-redirect corpus not found beside the repo (../shared/corpora): skipping the corpus case');

  it.skipIf(!corpusPresent)('refuses every open-redirect payload at mint, or redirects only to an allowed host', async () => {
    const payloads = corpusPayloads();
    let refused = 0;
    for (const url of payloads) {
      const res = await gw.request('/v1/links', { method: 'POST', key: apiKey, json: { url, noteId: 'note-1', category: 'beauty' } });
      if (res.status === 201) {
        const { code } = (await res.json()) as { code: string };
        const location = (await gw.request(`/${code}`)).headers.get('location') ?? '';
        const landing = new URL(location);
        expect(landing.protocol, url).toBe('https:');
        expect(hostAllowed(landing.hostname, ALLOWED), `${url} -> ${location}`).toBe(true);
      } else {
        expect([400, 403], url).toContain(res.status);
        refused++;
      }
    }
    expect(payloads.length).toBeGreaterThanOrEqual(200);
    expect(refused).toBeGreaterThanOrEqual(payloads.length - 5);
  });

  it.skipIf(!corpusPresent)('refuses every open-redirect payload as a new destination and as a device route, or sends each device only to an allowed host', async () => {
    const payloads = corpusPayloads();
    const devices = { ios: userAgentOf('iPhone Safari'), android: userAgentOf('Android Chrome'), desktop: userAgentOf('Windows Chrome') };
    const { code } = await gw.mint(apiKey);
    const landingOf = async (linkCode: string, userAgent: string) => {
      const res = await gw.request(`/${linkCode}`, { headers: { 'user-agent': userAgent } });
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location') ?? '');
    };
    const expectAllowed = (landing: URL, what: string) => {
      expect(landing.protocol, what).toBe('https:');
      expect(hostAllowed(landing.hostname, ALLOWED), `${what} -> ${landing.href}`).toBe(true);
    };
    let refused = 0;
    let tried = 0;
    for (const url of payloads) {
      tried++;
      const update = await gw.request(`/v1/links/${code}`, { method: 'PATCH', key: apiKey, json: { url } });
      if (update.status === 200) expectAllowed(await landingOf(code, devices.desktop), `PATCH ${url}`);
      else {
        expect([400, 403], `PATCH ${url}`).toContain(update.status);
        refused++;
      }
      for (const [device, userAgent] of Object.entries(devices)) {
        tried++;
        const minted = await gw.request('/v1/links', {
          method: 'POST',
          key: apiKey,
          json: { url: 'https://item.taobao.com/item.htm?id=1', noteId: 'note-1', category: 'beauty', [device]: url },
        });
        if (minted.status === 201) {
          const { code: routed } = (await minted.json()) as { code: string };
          expectAllowed(await landingOf(routed, userAgent), `${device} ${url}`);
        } else {
          expect([400, 403], `${device} ${url}`).toContain(minted.status);
          refused++;
        }
      }
    }
    expect(tried).toBe(payloads.length * 4);
    expect(refused).toBeGreaterThanOrEqual(tried - 20);
  });
});
