import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGateway, type TestGateway } from '../helpers/app.js';

/**
 * The merchant API's per-key budget: a fixed one-minute window shared by every gateway process.
 * Shoppers' taps never spend it.
 */

const LIMIT = 5;
let gw: TestGateway;

beforeAll(async () => {
  gw = await testGateway({ apiRateLimitPerMinute: LIMIT });
});
afterAll(() => gw.close());

/** Puts the clock this many ms into a minute, so a window's reset time is known exactly. */
function intoMinute(ms: number): void {
  gw.clock.now = (Math.floor(gw.clock.now / 60_000) + 1) * 60_000 + ms;
}

const list = (apiKey: string) => gw.request('/v1/links', { key: apiKey });

async function expectRateLimited(res: Response, retryAfter?: number): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const seconds = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(60);
  if (retryAfter !== undefined) expect(seconds).toBe(retryAfter);
  // The refusal carries the RateLimit fields like every other answer.
  expect(res.headers.get('ratelimit-limit')).toBe(String(LIMIT));
  expect(res.headers.get('ratelimit-remaining')).toBe('0');
  expect(res.headers.get('ratelimit-reset')).toBe(String(seconds));
  const body = (await res.json()) as { type: string; status: number; detail: string };
  expect(body.type.endsWith('rate-limited')).toBe(true);
  expect(body).toMatchObject({ type: 'https://hanglink.dev/problems/rate-limited', status: 429 });
  expect(body.detail).toContain(String(LIMIT));
}

describe('per-key rate limit', () => {
  it(`lets ${LIMIT} calls through with RateLimit headers, then answers 429 with Retry-After`, async () => {
    intoMinute(15_000);
    const { apiKey } = await gw.merchant('Busy');

    for (let i = 1; i <= LIMIT; i++) {
      const res = await list(apiKey);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - i));
      expect(res.headers.get('ratelimit-reset')).toBe('45');
    }
    await expectRateLimited(await list(apiKey), 45);
    // Every kind of merchant call spends the same budget, writes included.
    const mint = await gw.request('/v1/links', {
      method: 'POST',
      key: apiKey,
      json: { url: 'https://item.taobao.com/item.htm?id=1', noteId: 'n', category: 'beauty' },
    });
    await expectRateLimited(mint, 45);
    gw.clock.now += 44_500;
    await expectRateLimited(await gw.request('/v1/stats', { key: apiKey }), 1);
  });

  it('spends the budget on refused calls too, and tells them what is left', async () => {
    intoMinute(0);
    const { apiKey } = await gw.merchant('Sloppy');
    const bad = await gw.request('/v1/links', { method: 'POST', key: apiKey, json: { url: 'http://item.taobao.com/x', noteId: 'n', category: 'beauty' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(bad.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
    const missing = await gw.request('/v1/links/NoSuchLink', { key: apiKey });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 2));
  });

  it("keeps another merchant's budget separate", async () => {
    intoMinute(0);
    const busy = await gw.merchant('Busy');
    const quiet = await gw.merchant('Quiet');
    for (let i = 0; i < LIMIT; i++) expect((await list(busy.apiKey)).status).toBe(200);
    await expectRateLimited(await list(busy.apiKey));

    const res = await list(quiet.apiKey);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
  });

  it('restores the budget in a new minute', async () => {
    intoMinute(30_000);
    const { apiKey } = await gw.merchant('Patient');
    for (let i = 0; i < LIMIT; i++) expect((await list(apiKey)).status).toBe(200);
    await expectRateLimited(await list(apiKey), 30);

    gw.clock.now += 60_000;
    const res = await list(apiKey);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
    for (let i = 1; i < LIMIT; i++) expect((await list(apiKey)).status).toBe(200);
    await expectRateLimited(await list(apiKey));
  });

  it('does not spend the budget on calls that fail authentication', async () => {
    intoMinute(0);
    const { apiKey } = await gw.merchant('Guarded');
    for (let i = 0; i < 10; i++) expect((await list(`${apiKey}x`)).status).toBe(401);
    const res = await list(apiKey);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
  });

  it('never rate-limits the redirect, nor the operator API', async () => {
    intoMinute(0);
    const { apiKey } = await gw.merchant('Popular');
    const link = await gw.mint(apiKey); // one call of the budget
    for (let i = 1; i < LIMIT; i++) expect((await list(apiKey)).status).toBe(200);
    await expectRateLimited(await list(apiKey));

    for (let i = 0; i < 3 * LIMIT; i++) {
      const res = await gw.request(`/${link.code}`, { headers: { 'x-test-ip': `198.18.${i}.1` } });
      expect(res.status).toBe(302);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    }
    // The operator is not a merchant key: creating merchants goes on past the limit.
    for (let i = 0; i < LIMIT + 1; i++) await gw.merchant(`Extra ${i}`);
    await expectRateLimited(await list(apiKey));

    // The taps were all recorded, even though the merchant cannot read them this minute.
    await gw.flush();
    gw.clock.now += 60_000;
    const res = await gw.request(`/v1/links/${link.code}`, { key: apiKey });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ clicks: 3 * LIMIT });
  });
});
