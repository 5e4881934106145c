import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_HOSTS, hostAllowed } from '../../src/domain/destination.js';
import { ADMIN_TOKEN, CATEGORIES, SHOPPER_USER_AGENT, testGateway, type TestGateway } from '../helpers/app.js';
import { applyPendingCounts } from '../helpers/redis.js';

/**
 * "Bad input never hurts": generated requests (bodies, headers, paths, query strings, huge and
 * malformed values) at every route, through app.fetch on the real Redis store. For each one:
 * no 5xx and no throw; a refusal is a problem document wherever the route answers JSON; a
 * redirect only ever leads to an allowed host. A separate run checks that refused writes leave
 * every stored key as it was.
 *
 * The seed is fixed so that a failure reproduces; FUZZ_SEED=<n> tries another one, FUZZ_SCALE=<x>
 * multiplies the number of runs.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_611);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

// ---------------------------------------------------------------------------------------------
// The world the requests are thrown at

interface World {
  gw: TestGateway;
  a: { id: string; key: string };
  b: { id: string; key: string };
  /** A's links that only taps, pixels and reads touch, so redirects stay live all run long. */
  stable: string[];
  /** A's links that PATCH and DELETE may change. */
  scratch: string[];
  /** B's links: A may never see or change them. */
  foreign: string[];
  clickIds: string[];
  orderIds: string[];
  landing: string;
  campaigns: string[];
}

let sent = 0;
const byStatus = new Map<number, number>();
const asyncFailures: unknown[] = [];
const onAsyncFailure = (error: unknown) => {
  asyncFailures.push(error);
};

const ITEM = 'https://item.taobao.com/item.htm?id=123';

beforeAll(() => {
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} reproduces this run), scale ${SCALE}`);
  process.on('unhandledRejection', onAsyncFailure);
  process.on('uncaughtException', onAsyncFailure);
});

afterAll(() => {
  process.off('unhandledRejection', onAsyncFailure);
  process.off('uncaughtException', onAsyncFailure);
  const statuses = [...byStatus.entries()].sort(([x], [y]) => x - y).map(([status, n]) => `${status}×${n}`);
  console.log(`fuzz: ${sent} requests; statuses ${statuses.join(' ')}`);
});

/** A gateway of its own with two merchants, their links, clicks, orders and spend. */
async function buildWorld(): Promise<World> {
  const gw = await testGateway();
  const a = await gw.merchant('Fuzz A');
  const b = await gw.merchant('Fuzz B');
  const admin = await gw.request(`/v1/admin/merchants/${a.id}/categories`, { method: 'PUT', key: ADMIN_TOKEN, json: { categories: ['health-check'] } });
  expect(admin.status).toBe(200);
  const mint = async (key: string, body: Record<string, unknown>) => (await gw.mint(key, body)).code;
  const stable = [
    await mint(a.apiKey, { noteId: 'fz-note', campaignId: 'fz-campaign' }),
    await mint(a.apiKey, { noteId: 'fz-note', slug: 'fz-slug', url: 'https://detail.tmall.com/item.htm?id=9#frag' }),
    await mint(a.apiKey, {
      noteId: 'fz-routes',
      campaignId: 'fz-campaign',
      appUrl: 'taobao://item.taobao.com/item.htm?id=123',
      ios: 'https://item.taobao.com/item.htm?id=1',
      android: 'https://item.taobao.com/item.htm?id=2',
      desktop: 'https://item.taobao.com/item.htm?id=3',
    }),
    await mint(a.apiKey, { noteId: 'fz-capped', maxClicks: 3 }),
    await mint(a.apiKey, { noteId: 'fz-health', category: 'health-check' }),
  ];
  const scratch = [];
  for (let i = 0; i < 6; i++) scratch.push(await mint(a.apiKey, { noteId: `fz-scratch-${i}`, campaignId: 'fz-scratch', externalId: `fz-ext-${i}` }));
  const paused = await gw.request(`/v1/links/${scratch[0]}`, { method: 'PATCH', key: a.apiKey, json: { status: 'paused' } });
  expect(paused.status).toBe(200);
  expect((await gw.request(`/v1/links/${scratch[1]}`, { method: 'DELETE', key: a.apiKey })).status).toBe(204);
  const foreign = [await mint(b.apiKey, { noteId: 'fz-b' }), await mint(b.apiKey, { noteId: 'fz-b', slug: 'fz-b-slug' })];

  const clickIds: string[] = [];
  let landing = '';
  for (const code of [stable[0]!, stable[1]!, foreign[0]!]) {
    const tap = await gw.request(`/${code}`);
    expect(tap.status).toBe(302);
    landing ||= tap.headers.get('location')!;
    clickIds.push(new URL(tap.headers.get('location')!).searchParams.get('hl_cid')!);
  }
  await gw.flush();
  const orderIds = ['fz-order-1', 'fz-order-2'];
  for (const orderId of orderIds) {
    const res = await gw.request('/v1/conversions', { method: 'POST', key: a.apiKey, json: { clickId: clickIds[0], orderId, amount: '99.50', currency: 'CNY' } });
    expect(res.status).toBe(201);
  }
  const spend = await gw.request('/v1/campaigns/fz-campaign/spend', { method: 'PUT', key: a.apiKey, json: { amount: 30, currency: 'CNY' } });
  expect(spend.status).toBe(200);
  return {
    gw,
    a: { id: a.id, key: a.apiKey },
    b: { id: b.id, key: b.apiKey },
    stable,
    scratch,
    foreign,
    clickIds,
    orderIds,
    landing,
    campaigns: ['fz-campaign', 'fz-scratch', 'other-campaign'],
  };
}

// ---------------------------------------------------------------------------------------------
// Requests, and what every answer must be

type Auth = 'a' | 'b' | 'admin' | 'none' | { raw: string };

interface FuzzRequest {
  method: string;
  /** Path and query, exactly as put after the origin. */
  path: string;
  auth: Auth;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  /** Which generator made it, for the failure message. */
  family: 'redirect' | 'pixel' | 'plain' | 'api';
}

const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);

function describeRequest(req: FuzzRequest): string {
  const body =
    req.body === undefined ? 'no body' : typeof req.body === 'string' ? `body ${JSON.stringify(clip(req.body))}` : `binary body of ${req.body.length} bytes`;
  const headers = Object.entries(req.headers).map(([name, value]) => `${name}: ${JSON.stringify(clip(value, 120))}`);
  const auth = typeof req.auth === 'string' ? req.auth : `raw ${JSON.stringify(clip(req.auth.raw, 120))}`;
  return `(${req.family}) ${req.method} ${JSON.stringify(clip(req.path, 500))} auth=${auth} [${headers.join(', ')}] ${body}`;
}

function toRequest(world: World, req: FuzzRequest): Request {
  const headers = new Headers(req.headers);
  const authorization =
    req.auth === 'a'
      ? `Bearer ${world.a.key}`
      : req.auth === 'b'
        ? `Bearer ${world.b.key}`
        : req.auth === 'admin'
          ? `Bearer ${ADMIN_TOKEN}`
          : req.auth === 'none'
            ? undefined
            : req.auth.raw;
  if (authorization !== undefined) headers.set('authorization', authorization);
  const withBody = req.body !== undefined && !['GET', 'HEAD'].includes(req.method.toUpperCase());
  return new Request(`http://localhost${req.path}`, { method: req.method, headers, ...(withBody ? { body: req.body as NonNullable<RequestInit['body']> } : {}) });
}

let failuresPrinted = 0;

function fail(req: FuzzRequest, why: string): never {
  const message = `${why}\n  request: ${describeRequest(req)}\n  seed: ${SEED}`;
  // The first failing request as generated; fast-check then reports the smallest one it shrinks to.
  if (failuresPrinted++ === 0) console.error(`fuzz failure: ${message}`);
  throw new Error(message);
}

function checkLocation(req: FuzzRequest, location: string | null): void {
  if (location === null) fail(req, 'a redirect without a Location');
  const intent = /^intent:\/\/([^/#?]+)[^#]*#Intent;scheme=(taobao|tmall);S\.browser_fallback_url=([^;]+);end$/.exec(location);
  const urls = intent === null ? [location] : [`https://${intent[1]}/`, decodeURIComponent(intent[3]!)];
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      fail(req, `a redirect to something that is not a URL: ${location}`);
    }
    if (parsed.protocol !== 'https:' || !hostAllowed(parsed.hostname, DEFAULT_ALLOWED_HOSTS)) fail(req, `a redirect off the allowed hosts: ${location}`);
  }
}

/** Sends one request and checks the answer; returns its status and, for JSON, its body. */
async function send(world: World, req: FuzzRequest): Promise<{ status: number; json: unknown }> {
  let request: Request;
  try {
    request = toRequest(world, req);
  } catch (error) {
    // The generators must only make requests a client could send; this is a bug in the test.
    throw new Error(`the test built an impossible request (${String(error)}): ${describeRequest(req)}`);
  }
  // Only a single segment reaches /:code, the one route that redirects or answers browsers with a page.
  const tapRoute = /^\/[^/]+$/.test(new URL(request.url).pathname);
  let res: Response;
  try {
    res = await world.gw.app.fetch(request);
  } catch (error) {
    fail(req, `the app threw instead of answering: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  sent++;
  byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  if (res.status >= 500) fail(req, `answered ${res.status}: ${clip(text)}`);
  if (res.status < 200) fail(req, `answered ${res.status}`);

  if (res.status >= 300 && res.status < 400) {
    if (!tapRoute) fail(req, 'a redirect from a route other than /:code');
    checkLocation(req, res.headers.get('location'));
    return { status: res.status, json: undefined };
  }

  if (res.status >= 400) {
    const browserPage = tapRoute && (req.headers.accept ?? '').includes('text/html') && type.startsWith('text/html');
    if (browserPage) return { status: res.status, json: undefined };
    if (!type.startsWith('application/problem+json')) fail(req, `a ${res.status} that is not a problem document (content-type ${JSON.stringify(type)}): ${clip(text)}`);
    if (req.method === 'HEAD') return { status: res.status, json: undefined };
    let problem: Record<string, unknown>;
    try {
      problem = JSON.parse(text) as Record<string, unknown>;
    } catch {
      fail(req, `a ${res.status} whose problem document is not JSON: ${clip(text)}`);
    }
    const fields = ['type', 'title', 'detail'] as const;
    if (fields.some((f) => typeof problem[f] !== 'string' || (problem[f] as string).length === 0) || problem.status !== res.status) {
      fail(req, `a ${res.status} problem without type, title, detail and status: ${clip(text)}`);
    }
    return { status: res.status, json: problem };
  }

  // 2xx
  if (type.startsWith('text/html')) {
    if (!tapRoute) fail(req, 'an HTML page from a route other than /:code');
    // The app interstitial: its links lead to the store app or an allowed https page.
    for (const [, href] of text.matchAll(/href="([^"]*)"/g)) {
      const url = href!.replaceAll('&amp;', '&');
      if (/^(taobao|tmall):\/\//.test(url)) checkLocation(req, `https://${url.slice(url.indexOf('://') + 3)}`);
      else checkLocation(req, url);
    }
  }
  if (/^application\/(?:[\w.-]+\+)?json/.test(type) && req.method !== 'HEAD') {
    try {
      return { status: res.status, json: JSON.parse(text) };
    } catch {
      fail(req, `a ${res.status} JSON answer that does not parse: ${clip(text)}`);
    }
  }
  return { status: res.status, json: undefined };
}

// ---------------------------------------------------------------------------------------------
// Generators: values

/** Strings a careless or hostile client sends where a field is expected. */
const NASTY = [
  '', ' ', '\t', '0', '-1', '1e309', '-0', 'NaN', 'Infinity', 'null', 'true', '[]', '{}', '__proto__', 'constructor', 'prototype',
  'hasOwnProperty', '../..', '..%2f..', '%00', '%zz', '%', '\u0000', '\u202e', '\ufeff', '\u2028', '😀', '𝕏', 'é', 'İ', '\ud800',
  '<script>alert(1)</script>', "' OR 1=1 --", '${7*7}', '{{7*7}}', '\r\n', '=HYPERLINK("x")', '@SUM(1)', 'a'.repeat(129),
  'x'.repeat(5000), 'spring', 'beauty', 'health-check', 'medical-device', 'CNY', 'USD', 'cny', '2026-01-01', '2026-13-45',
  '2026-01-01T00:00:00Z', '2099-01-01T00:00:00+08:00', '1970-01-01T00:00:00Z', ITEM, 'http://item.taobao.com/x',
  'https://evil.example/', 'https://item.taobao.com.evil.example/', 'https://user@item.taobao.com/', 'https://item.taobao.com:444/',
  'javascript:alert(1)', 'taobao://item.taobao.com/x', '//evil.example', 'https://item.taobao.com/\\evil', '12.345', '1,5',
];
const nasty = fc.constantFrom(...NASTY);
const huge = fc.constantFrom(300, 2049, 4097, 10_000, 70_000).map((n) => 'h'.repeat(n));
const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 4, arbitrary: nasty },
  { weight: 1, arbitrary: huge },
);
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER + 2, -1e-7)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(text, text, { maxKeys: 4 }) },
);

const id = fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/);
/** Any instant a four-digit year can name: the edges of the calendar are where arithmetic on times breaks. */
const anyTime = fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
const futureIso = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 300 }).map((days) => new Date(Date.now() + days * 86_400_000).toISOString()) },
  { weight: 1, arbitrary: anyTime.map((d) => d.toISOString()) },
);
const itemUrl = fc.oneof(
  fc.constantFrom(ITEM, 'https://detail.tmall.com/item.htm?id=7', 'https://item.taobao.com/a?b=c#d', 'https://m.tmall.com/'),
  fc.nat(1e9).map((n) => `${ITEM.slice(0, -3)}${n}`),
);
const amount = fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 9_999_999 }).map((n) => (n / 100).toFixed(2)));

/** Latin-1 text without NUL, CR or LF: anything a client can put in a header value. */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc.integer({ min: 1, max: 0xff }).filter((c) => c !== 0x0a && c !== 0x0d).map((c) => String.fromCharCode(c)),
    maxLength,
  });
const headerValue = fc.oneof(
  { weight: 3, arbitrary: headerText(60) },
  { weight: 1, arbitrary: fc.constantFrom(4000, 20_000, 60_000).map((n) => 'U'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '*', '=cmd', '\u00ff\u00fe\u0001', '"quoted"', 'text/html', 'prefetch') },
);

const USER_AGENTS = [
  SHOPPER_USER_AGENT,
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49',
  'curl/8.5.0',
];
const userAgent = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...USER_AGENTS) },
  { weight: 2, arbitrary: headerValue },
  { weight: 1, arbitrary: fc.constantFrom(...USER_AGENTS).map((ua) => ua + 'x'.repeat(30_000)) },
);
const accept = fc.constantFrom(
  '*/*', 'text/html', 'text/html,application/xhtml+xml,*/*;q=0.8', 'application/json', 'application/problem+json', 'image/gif',
  'image/*', 'text/csv', 'text/plain', 'image/webp,*/*', ',,,', 'garbage/', ';q=0', 'TEXT/HTML',
);

/** Headers any request may carry, each one present or not. */
const commonHeaders = fc.record(
    {
      'user-agent': userAgent,
      accept: fc.oneof({ weight: 3, arbitrary: accept }, { weight: 1, arbitrary: headerValue }),
      referer: fc.oneof(fc.constantFrom('https://www.xiaohongshu.com/explore/1', '=1+1', 'not a url'), headerValue),
      'accept-language': fc.oneof(fc.constantFrom('zh-CN,zh;q=0.9', 'en', '*'), headerValue),
      'x-test-ip': fc.oneof(
        fc.ipV4(),
        fc.ipV6(),
        fc.constantFrom('', 'unknown', '999.999.1.1', '::ffff:1.2.3.4', '1.2.3.4, 5.6.7.8', '[::1]:80', 'fe80::1%eth0'),
        headerValue,
      ),
      'sec-purpose': fc.constantFrom('prefetch', 'prefetch;prerender', 'PREFETCH', 'x'),
      'x-forwarded-for': headerValue,
      cookie: headerValue,
    },
    { requiredKeys: [] },
  );

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('a' as const) },
  { weight: 1, arbitrary: fc.constantFrom<Auth>('b', 'admin', 'none') },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom('Bearer', 'Bearer ', 'Bearer  x y', 'Basic dXNlcjpwYXNz', 'bearer hl_wrongwrongwrong', 'Bearer hl_', 'Token abc', ''),
        headerText(80).map((s) => `Bearer ${s}`),
        fc.constantFrom(257, 5000, 50_000).map((n) => `Bearer ${'k'.repeat(n)}`),
        headerValue,
      )
      .map((raw) => ({ raw })),
  },
);

// ---------------------------------------------------------------------------------------------
// Generators: paths and query strings

/** One path segment, as a client might write it: encoded, raw, dotted, malformed or very long. */
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.webSegment() },
  { weight: 2, arbitrary: text.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'))) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replace(/[?#/\\\ud800-\udfff]/g, '_')) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '.', '..', '%2e', '%2e%2e', '.%2E', '%2F', '%2f..%2f', '%', '%z', '%zz', '%C0%AE', '%ff%fe', '%00', '%u0041', ';', '%3B', '~',
      '@', ':', 'a;b=c', '%252e%252e', '\u00e9', '\u4e2d\u6587', '%E4%B8%AD', '%F0%9F%98%80', 'v1', 'i', 'healthz', 'admin',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(65, 200, 2000, 20_000).map((n) => 'a'.repeat(n)) },
);

function queryString(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const names = Object.keys(fields);
  const known = names.length === 0 ? [] : [fc.constantFrom(...names).chain((name) => fields[name]!.map((value) => [name, value] as const))];
  const pair = fc.oneof(
    ...known.map((arbitrary) => ({ weight: 4, arbitrary })),
    { weight: 1, arbitrary: fc.tuple(fc.oneof(text, fc.constantFrom(...names, 'x')), text) },
  );
  const encoded = fc.array(fc.tuple(pair, fc.boolean()), { maxLength: 5 }).map((pairs) =>
    pairs
      .map(([[name, value], raw]) => {
        const clean = (s: string) => s.replace(/[\ud800-\udfff]/g, '?');
        return raw ? `${clean(name).replace(/[#&=]/g, '')}=${clean(value).replace(/[#&]/g, '')}` : `${encodeURIComponent(clean(name))}=${encodeURIComponent(clean(value))}`;
      })
      .join('&'),
  );
  // Each known field at most once: the shape a real client sends, so the values get past the shape checks.
  const record = fc
    .record(fields, { requiredKeys: [] })
    .map((values) => Object.entries(values).map(([name, value]) => `${name}=${encodeURIComponent((value ?? '').replace(/[\ud800-\udfff]/g, '?'))}`).join('&'));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    { weight: names.length === 0 ? 0 : 4, arbitrary: record.map((q) => (q === '' ? '' : `?${q}`)) },
    { weight: 6, arbitrary: encoded.map((q) => (q === '' ? '' : `?${q}`)) },
    { weight: 1, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) },
    { weight: 1, arbitrary: fc.constantFrom('?', '??', '?&&', '?=', '?a', '?%zz=1', '?limit=1&limit=2', `?q=${'q'.repeat(20_000)}`, '?#frag') },
  );
}

// ---------------------------------------------------------------------------------------------
// Generators: bodies

type Body = string | Uint8Array | undefined;

/** A valid body with one thing changed: a field removed, replaced with junk, or one added. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(valid, fc.nat(), fc.constantFrom('delete', 'replace', 'replace', 'replace', 'add'), jsonish).map(([body, pick, op, value]) => {
    const keys = Object.keys(body);
    const copy: Record<string, unknown> = { ...body };
    if (op === 'add' || keys.length === 0) {
      const names = ['noteID', 'merchantId', 'clicks', 'status', 'code', 'extra', '__proto__', 'constructor', ''];
      Object.defineProperty(copy, names[pick % names.length]!, { value, enumerable: true, configurable: true, writable: true });
      return copy;
    }
    const key = keys[pick % keys.length]!;
    if (op === 'delete') delete copy[key];
    else copy[key] = value;
    return copy;
  });
}

/** JSON text that a parser refuses, built from a valid body so that it is almost right. */
function malformed(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(valid, fc.nat()).map(([body, at]) => {
      const json = JSON.stringify(body);
      return json.slice(0, at % Math.max(1, json.length));
    }),
    valid.map((body) => JSON.stringify(body).replace(/"/g, "'")),
    valid.map((body) => `${JSON.stringify(body).slice(0, -1)},}`),
    valid.map((body) => `\ufeff${JSON.stringify(body)}`),
    valid.map((body) => `${JSON.stringify(body)}${JSON.stringify(body)}`),
    valid.map((body) => JSON.stringify(body).replace(':', '::')),
    fc.string({ maxLength: 50 }),
    fc.constantFrom('', ' ', 'null', '[]', '"string"', '1', 'undefined', '{"a":1', '{"a":NaN}', '{"a":1e999999}', '\u0000', '{"__proto__":{"x":1}}'),
  );
}

const deep = fc.oneof(
  fc.integer({ min: 30, max: 40 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 33, max: 20_000 }).map((n) => `{"items":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
);

/** Wherever a body is expected: valid, nearly valid, malformed, huge, deep, binary or missing. */
function bodies(valid: fc.Arbitrary<Record<string, unknown>>, opts: { hugeBytes: number }): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 3, arbitrary: valid.map((b) => JSON.stringify(b)) },
    { weight: 8, arbitrary: mutated(valid).map((b) => JSON.stringify(b)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: malformed(valid) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.constantFrom(opts.hugeBytes - 200, opts.hugeBytes + 1, opts.hugeBytes + 5000))
        .map(([b, size]) => JSON.stringify({ ...b, pad: 'p'.repeat(Math.max(0, size)) })),
    },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/problem+json', 'application/vnd.api+json', 'application/a+b+json',
      'application/json ; charset=latin1', 'application/jsonx', 'application/json-patch+json', 'text/json', 'text/plain',
      'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/octet-stream', '', ' application/json',
      'application/json;', 'application/json, text/plain',
    ),
  },
  { weight: 1, arbitrary: headerValue },
);

// ---------------------------------------------------------------------------------------------
// Generators: one per route family

const newLink = fc.record(
  {
    url: itemUrl,
    noteId: id,
    category: fc.constantFrom(...CATEGORIES.open, 'health-check'),
    campaignId: id,
    slug: fc.stringMatching(/^[A-Za-z0-9_-]{3,20}$/),
    expiresAt: futureIso,
    externalId: id,
    appUrl: fc.constantFrom('taobao://item.taobao.com/item.htm?id=1', 'tmall://detail.tmall.com/item.htm?id=2'),
    ios: itemUrl,
    android: itemUrl,
    desktop: itemUrl,
    maxClicks: fc.integer({ min: 1, max: 1000 }),
  },
  { requiredKeys: ['url', 'noteId', 'category'] },
);
const linkPatch = fc.record(
  {
    url: itemUrl,
    status: fc.constantFrom('active', 'paused'),
    expiresAt: fc.option(futureIso),
    appUrl: fc.option(fc.constant('taobao://item.taobao.com/item.htm?id=1')),
    ios: fc.option(itemUrl),
    maxClicks: fc.option(fc.integer({ min: 1, max: 1000 })),
  },
  { requiredKeys: [] },
);

interface Family {
  name: string;
  runs: number;
  /** Sends requests that may change data; the refusal run draws from these. */
  writes?: boolean;
  arbitrary: (world: World) => fc.Arbitrary<FuzzRequest>;
}

const withQuery = (path: fc.Arbitrary<string>, query: fc.Arbitrary<string>) => fc.tuple(path, query).map(([p, q]) => p + q);

/** A JSON API request: a method and path, a body for writes, headers, a key. */
function apiRequest(method: fc.Arbitrary<string>, path: fc.Arbitrary<string>, body: fc.Arbitrary<Body>, authArb: fc.Arbitrary<Auth> = auth) {
  return fc.record({ method, path, body, type: contentType, headers: commonHeaders, auth: authArb }).map(
    ({ method: m, path: p, body: b, type, headers, auth: who }): FuzzRequest => ({
      method: m,
      path: p,
      auth: who,
      headers: type === '' ? headers : { ...headers, 'content-type': type },
      body: b,
      family: 'api',
    }),
  );
}

const adminAuth: fc.Arbitrary<Auth> = fc.oneof({ weight: 10, arbitrary: fc.constant('admin' as const) }, { weight: 3, arbitrary: auth });

/** A code for /:code, /i/:code and /v1/links/:code: a real one (live, paused, deleted, another merchant's) or not. */
const code = (world: World, own: string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...own) },
    { weight: 1, arbitrary: fc.constantFrom(...world.foreign, ...world.scratch.slice(0, 2)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{3,64}$/) },
    { weight: 3, arbitrary: segment },
  );

const FAMILIES: Family[] = [
  {
    name: 'GET and HEAD /:code (the tap)',
    runs: 2400,
    arbitrary: (world) =>
      fc
        .record({
          method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
          path: fc.oneof(
            { weight: 6, arbitrary: withQuery(code(world, world.stable).map((c) => `/${c}`), queryString({ utm_source: text, hl_cid: text })) },
            { weight: 1, arbitrary: fc.tuple(segment, segment).map(([x, y]) => `/${x}/${y}`) },
            { weight: 1, arbitrary: code(world, world.stable).map((c) => `//${c}`) },
            { weight: 1, arbitrary: code(world, world.stable).map((c) => `/./${c}/`) },
          ),
          headers: commonHeaders,
        })
        .map(({ method, path, headers }): FuzzRequest => ({ method, path, headers, auth: 'none', family: 'redirect' })),
  },
  {
    name: 'GET and HEAD /i/:code (the pixel)',
    runs: 700,
    arbitrary: (world) =>
      fc
        .record({
          method: fc.constantFrom('GET', 'GET', 'HEAD'),
          path: withQuery(code(world, world.stable).map((c) => `/i/${c}`), queryString({ r: text })),
          headers: commonHeaders,
        })
        .map(({ method, path, headers }): FuzzRequest => ({ method, path, headers, auth: 'none', family: 'pixel' })),
  },
  {
    name: '/healthz, /readyz, /openapi.json',
    runs: 300,
    arbitrary: () =>
      fc
        .record({
          method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'OPTIONS'),
          path: withQuery(fc.constantFrom('/healthz', '/readyz', '/openapi.json', '/healthz/', '/openapi.json/x', '/OPENAPI.JSON'), queryString({})),
          headers: commonHeaders,
          auth,
        })
        .map(({ method, path, headers, auth: who }): FuzzRequest => ({ method, path, headers, auth: who, family: 'plain' })),
  },
  {
    name: 'POST /v1/links',
    writes: true,
    runs: 900,
    arbitrary: () => apiRequest(fc.constant('POST'), withQuery(fc.constant('/v1/links'), queryString({})), bodies(newLink, { hugeBytes: 64 * 1024 })),
  },
  {
    name: 'POST /v1/links/bulk',
    writes: true,
    runs: 500,
    arbitrary: () => {
      const items = fc.array(fc.oneof(newLink, mutated(newLink), jsonish), { minLength: 1, maxLength: 6 });
      const bulk = fc.oneof({ weight: 9, arbitrary: items.map((list) => ({ items: list })) }, { weight: 1, arbitrary: fc.constant({ items: Array.from({ length: 1001 }, () => ({})) }) });
      return apiRequest(fc.constant('POST'), fc.constant('/v1/links/bulk'), bodies(bulk, { hugeBytes: 2 * 1024 * 1024 }));
    },
  },
  {
    name: 'GET, PATCH and DELETE /v1/links/:code',
    writes: true,
    runs: 1100,
    arbitrary: (world) =>
      fc.oneof(
        apiRequest(fc.constantFrom('GET', 'HEAD'), withQuery(code(world, [...world.stable, ...world.scratch]).map((c) => `/v1/links/${c}`), queryString({})), fc.constant(undefined)),
        apiRequest(fc.constant('PATCH'), code(world, world.scratch).map((c) => `/v1/links/${c}`), bodies(linkPatch, { hugeBytes: 64 * 1024 })),
        apiRequest(fc.constant('DELETE'), code(world, world.scratch.slice(2)).map((c) => `/v1/links/${c}`), fc.oneof(fc.constant(undefined), fc.constant('{}'))),
      ),
  },
  {
    name: 'GET /v1/links (the listing)',
    runs: 600,
    arbitrary: () =>
      apiRequest(
        fc.constantFrom('GET', 'HEAD'),
        withQuery(
          fc.constantFrom('/v1/links', '/v1/links/'),
          queryString({
            noteId: fc.oneof(id, fc.constantFrom('fz-note', 'fz-scratch-3')),
            campaignId: fc.oneof(id, fc.constant('fz-campaign')),
            cursor: fc.oneof(text, fc.base64String({ maxLength: 80 })),
            limit: fc.oneof(fc.integer({ min: -5, max: 300 }).map(String), text),
          }),
        ),
        fc.constant(undefined),
      ),
  },
  {
    name: 'POST /v1/admin/merchants and PUT /v1/admin/merchants/:id/categories',
    writes: true,
    runs: 600,
    arbitrary: (world) =>
      fc.oneof(
        apiRequest(
          fc.constant('POST'),
          fc.constantFrom('/v1/admin/merchants', '/v1/admin/merchants/'),
          bodies(fc.record({ name: fc.string({ minLength: 1, maxLength: 40 }), currency: fc.constantFrom('CNY', 'USD', 'EUR') }, { requiredKeys: ['name'] }), {
            hugeBytes: 64 * 1024,
          }),
          adminAuth,
        ),
        apiRequest(
          fc.constant('PUT'),
          fc.oneof(fc.constantFrom(world.a.id, world.b.id), segment).map((m) => `/v1/admin/merchants/${m}/categories`),
          bodies(fc.record({ categories: fc.subarray([...CATEGORIES.whitelist, ...CATEGORIES.open]) }), { hugeBytes: 64 * 1024 }),
          adminAuth,
        ),
        apiRequest(fc.constantFrom('GET', 'DELETE', 'PATCH'), fc.constantFrom('/v1/admin/merchants', `/v1/admin/merchants/${world.a.id}`), fc.constant('{}'), adminAuth),
      ),
  },
  {
    name: 'POST /v1/attribution/verify',
    runs: 500,
    arbitrary: (world) => {
      const landing = fc.oneof(
        fc.constant(world.landing),
        fc.tuple(fc.nat(), fc.constantFrom('x', '&', '#', '%', '=', '')).map(([at, ch]) => {
          const i = at % world.landing.length;
          return world.landing.slice(0, i) + ch + world.landing.slice(i + 1);
        }),
        itemUrl,
        text,
      );
      return apiRequest(fc.constant('POST'), fc.constant('/v1/attribution/verify'), bodies(fc.record({ url: landing }), { hugeBytes: 64 * 1024 }));
    },
  },
  {
    name: 'POST /v1/conversions and /v1/conversions/:orderId/refund',
    writes: true,
    runs: 900,
    arbitrary: (world) => {
      const conversion = fc.record(
        {
          clickId: fc.oneof(fc.constantFrom(...world.clickIds), id),
          orderId: fc.oneof(fc.constantFrom(...world.orderIds), id),
          amount,
          currency: fc.constantFrom('CNY', 'USD'),
          newCustomer: fc.boolean(),
          occurredAt: fc.oneof(fc.constantFrom(new Date().toISOString(), '2020-01-01T00:00:00Z'), anyTime.map((d) => d.toISOString())),
        },
        { requiredKeys: ['clickId', 'orderId', 'amount', 'currency'] },
      );
      const refund = fc.record({ amount }, { requiredKeys: [] });
      return fc.oneof(
        apiRequest(fc.constant('POST'), fc.constant('/v1/conversions'), bodies(conversion, { hugeBytes: 64 * 1024 })),
        apiRequest(
          fc.constant('POST'),
          fc.oneof(fc.constantFrom(...world.orderIds), id, segment).map((o) => `/v1/conversions/${o}/refund`),
          bodies(refund, { hugeBytes: 64 * 1024 }),
        ),
      );
    },
  },
  {
    name: 'PUT /v1/campaigns/:id/spend',
    writes: true,
    runs: 500,
    arbitrary: (world) =>
      apiRequest(
        fc.constantFrom('PUT', 'PUT', 'PUT', 'POST'),
        fc.oneof(fc.constantFrom(...world.campaigns), id, segment).map((c) => `/v1/campaigns/${c}/spend`),
        bodies(
          fc.record(
            { amount, currency: fc.constantFrom('CNY', 'USD'), date: fc.oneof(fc.constantFrom('2026-01-01', '2025-02-29', '2024-02-29', new Date().toISOString().slice(0, 10)), anyTime.map((d) => d.toISOString().slice(0, 10))) },
            { requiredKeys: ['amount', 'currency'] },
          ),
          { hugeBytes: 64 * 1024 },
        ),
      ),
  },
  {
    name: 'GET /v1/stats and /v1/clicks',
    runs: 1000,
    arbitrary: () => {
      // Any instant as a date or a date-time, a few usual ones, and the odd non-date.
      const instant = fc.oneof(
        fc.constantFrom('2026-01-01', '2026-01-01T00:00:00Z', new Date(Date.now() - 86_400_000).toISOString(), '1970-01-01', '9999-12-31', '0', '-1'),
        anyTime.map((d) => d.toISOString()),
        anyTime.map((d) => d.toISOString().slice(0, 10)),
        fc.integer({ min: -1e15, max: 1e15 }).map(String),
        text,
      );
      return fc.oneof(
        apiRequest(
          fc.constantFrom('GET', 'HEAD'),
          withQuery(
            fc.constant('/v1/stats'),
            queryString({
              groupBy: fc.oneof(fc.constantFrom('merchant', 'campaign', 'note', 'link'), text),
              interval: fc.oneof(fc.constantFrom('hour', 'day', 'total'), text),
              from: instant,
              to: instant,
            }),
          ),
          fc.constant(undefined),
        ),
        apiRequest(
          fc.constantFrom('GET', 'HEAD'),
          withQuery(
            fc.constant('/v1/clicks'),
            queryString({
              from: instant,
              to: instant,
              // Stream ids are two unsigned 64-bit numbers: try their edges too.
              cursor: fc.oneof(
                fc.stringMatching(/^\d{1,21}(-\d{1,21})?$/),
                fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 65n }), fc.option(fc.bigInt({ min: 0n, max: 2n ** 65n }))).map(([ms, seq]) => (seq === null ? `${ms}` : `${ms}-${seq}`)),
                fc.constantFrom('0', '0-0', '18446744073709551615', '18446744073709551616', '18446744073709551615-18446744073709551615', '1-18446744073709551616'),
                text,
              ),
              limit: fc.oneof(fc.integer({ min: 1, max: 50 }).map(String), fc.integer({ min: -2, max: 20_000 }).map(String), text),
            }),
          ),
          fc.constant(undefined),
        ),
      );
    },
  },
  {
    name: 'anything else: random methods and paths',
    writes: true,
    runs: 500,
    arbitrary: () =>
      apiRequest(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'PURGE', 'get', 'post'),
        withQuery(
          fc.oneof(
            fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
            fc.array(segment, { maxLength: 3 }).map((segments) => `/v1/${segments.join('/')}`),
            fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
            fc.constantFrom('/', '/v1', '/v1/', '/v1/admin', '/v1/links/../admin/merchants', '/v1//links', '/i/', '/i', '/%2e%2e/v1/links', '/v1/%6cinks'),
          ),
          queryString({}),
        ),
        bodies(fc.record({ x: jsonish }), { hugeBytes: 64 * 1024 }),
      ),
  },
];

// ---------------------------------------------------------------------------------------------

/**
 * Everything stored under the world's key prefix, as DUMP payloads, in two round trips: cheap
 * enough to take after every request (test/helpers/snapshot.ts reads key by key, which is clearer
 * but too slow for that). Rate-limit windows are left out as there: they count refused requests
 * too and hold no merchant data.
 */
async function storedState({ gw }: World): Promise<Map<string, string>> {
  const { redis, prefix } = gw.redis;
  // Whether a click's counts still wait in the pending list or sit in their counters is no change.
  await applyPendingCounts(redis, prefix);
  const keys = (await redis.keys(`${prefix}*`)).filter((key) => !key.startsWith(`${prefix}rate:`)).sort();
  const dumps = (await redis.pipeline(keys.map((key) => ['dumpBuffer', key])).exec()) ?? [];
  return new Map(keys.map((key, i) => [key, (dumps[i]?.[1] as Buffer | null)?.toString('base64') ?? '<gone>']));
}

function stateChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) changes.push(`${before.has(key) ? 'changed' : 'added'} ${key}`);
  for (const key of before.keys()) if (!after.has(key)) changes.push(`removed ${key}`);
  return changes;
}

describe(`fuzz: every route, every kind of bad input (seed ${SEED})`, () => {
  let world: World;
  beforeAll(async () => {
    world = await buildWorld();
  }, 60_000);
  afterAll(async () => {
    await world?.gw.close();
  });

  FAMILIES.forEach((family, index) => {
    it(`${family.name}: ${runs(family.runs)} requests, no 5xx, problems for refusals, redirects only to allowed hosts`, async () => {
      await fc.assert(
        fc.asyncProperty(family.arbitrary(world), async (req) => {
          await send(world, req);
        }),
        { seed: SEED + index, numRuns: runs(family.runs) },
      );
      // Taps and pixels are written in the background; write them now, so the exports have rows,
      // and check that every click the fuzzed taps queued was written, none dropped.
      await world.gw.flush();
      expect({ buffered: world.gw.clicks.depth, dropped: world.gw.clicks.dropped }).toEqual({ buffered: 0, dropped: 0 });
    }, 120_000);
  });
});

describe(`fuzz: a refused write changes nothing (seed ${SEED + FAMILIES.length})`, () => {
  let world: World;
  beforeAll(async () => {
    // A world of its own: few keys, so the whole store can be compared after every request.
    world = await buildWorld();
  }, 60_000);
  afterAll(async () => {
    await world?.gw.close();
  });

  it('after each refusal every stored key is as it was; after a batch of refusals so are the listing, the funnel and the export', async () => {
    const writes = FAMILIES.filter((f) => f.writes).map((f) => f.arbitrary(world));
    // Another merchant's links too: whatever A sends, B's links stay B's.
    const foreignWrites = fc.oneof(
      apiRequest(fc.constant('PATCH'), fc.constantFrom(...world.foreign).map((c) => `/v1/links/${c}`), bodies(linkPatch, { hugeBytes: 64 * 1024 })),
      apiRequest(fc.constant('DELETE'), fc.constantFrom(...world.foreign).map((c) => `/v1/links/${c}`), fc.constant(undefined)),
    );
    const write = fc.oneof(...writes, foreignWrites);
    const view = async () => {
      const get = async (path: string) => {
        const res = await world.gw.app.request(path, { headers: { authorization: `Bearer ${world.a.key}`, accept: 'application/json' } });
        expect(res.status).toBe(200);
        return res.text();
      };
      return {
        links: await get('/v1/links?limit=200'),
        funnel: await get('/v1/stats?groupBy=link&interval=total'),
        clicks: await get('/v1/clicks?limit=10000'),
      };
    };

    let refused = 0;
    let cleanBatches = 0;
    let baseline = await storedState(world);
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 8, maxLength: 8 }), async (batch) => {
        const before = await view();
        let accepted = 0;
        for (const req of batch) {
          const { status, json } = await send(world, req);
          // A bulk answers 200 with a result per item; when no item was minted it refused them all.
          const bulkMintedNothing = req.path.startsWith('/v1/links/bulk') && status === 200 && (json as { created?: number }).created === 0;
          if (status < 400 && !bulkMintedNothing) {
            accepted++;
            baseline = await storedState(world);
            continue;
          }
          refused++;
          const changes = stateChanges(baseline, await storedState(world));
          if (changes.length > 0) fail(req, `a refused request (${status}) changed the store: ${changes.slice(0, 10).join(', ')}`);
        }
        if (accepted === 0) {
          cleanBatches++;
          expect(await view()).toEqual(before);
        }
      }),
      { seed: SEED + FAMILIES.length, numRuns: runs(150) },
    );
    console.log(`fuzz: ${refused} refused writes compared key by key; ${cleanBatches} all-refused batches compared through the API`);
    expect(refused).toBeGreaterThan(runs(150) * 4);
    expect(cleanBatches).toBeGreaterThan(0);
  }, 120_000);
});

describe('fuzz: the whole run', () => {
  it(`sent at least ${runs(10_000)} requests, and nothing escaped as an unhandled rejection or exception`, () => {
    expect(sent).toBeGreaterThanOrEqual(runs(10_000));
    expect(asyncFailures).toEqual([]);
  });
});
