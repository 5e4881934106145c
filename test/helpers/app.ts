import type { OpenAPIHono } from '@hono/zod-openapi';
import { type AppDeps, createApp } from '../../src/app.js';
import { ClickBuffer } from '../../src/clicks/buffer.js';
import { clickEnricher } from '../../src/clicks/enrich.js';
import { ImpressionCounter } from '../../src/clicks/impressions.js';
import { type ClickPolicy, DEFAULT_CLICK_POLICY } from '../../src/domain/click.js';
import { UserAgentCache } from '../../src/domain/user-agent.js';
import type { SigningKey } from '../../src/domain/attribution.js';
import type { Link } from '../../src/domain/link.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import type { Store } from '../../src/store/types.js';
import { testRedis, type TestRedis } from './redis.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const SIGNING_KEYS: SigningKey[] = [
  { id: 'k2', secret: 'second-secret-0123456789abcdef' },
  { id: 'k1', secret: 'first-secret-0123456789abcdef' },
];
export const SHOPPER_USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
export const PUBLIC_URL = 'https://go.example.test';
export const CATEGORIES = {
  open: ['beauty', 'mother-baby', 'personal-care', 'sports-outdoor', 'home-cleaning', 'nutrition', 'health-food'],
  whitelist: ['health-check', 'medical-device'],
};

export interface GatewayOverrides {
  allowedHosts?: string[];
  linkCacheTtlMs?: number;
  apiRateLimitPerMinute?: number;
  clickPolicy?: ClickPolicy;
  impressions?: ImpressionCounter;
}

const USER_AGENTS = new UserAgentCache();

/** What createApp gets in tests; a second app built from the same store stands for another gateway process. */
export function testAppDeps(store: Store, clicks: ClickBuffer, clock: { now: number }, overrides: GatewayOverrides = {}): AppDeps {
  return {
    config: {
      publicUrl: PUBLIC_URL,
      allowedHosts: overrides.allowedHosts ?? ['.taobao.com', '.tmall.com'],
      categories: CATEGORIES,
      adminToken: ADMIN_TOKEN,
      signingKeys: SIGNING_KEYS,
      linkCache: { ttlMs: overrides.linkCacheTtlMs ?? 1000, maxEntries: 1000 },
      appSchemes: ['taobao', 'tmall'],
      apiRateLimitPerMinute: overrides.apiRateLimitPerMinute ?? 1_000_000,
      attributionWindowMs: 7 * 24 * 3_600_000,
      clickPolicy: overrides.clickPolicy ?? DEFAULT_CLICK_POLICY,
    },
    impressions: overrides.impressions ?? new ImpressionCounter(store),
    userAgents: USER_AGENTS,
    store,
    storeKind: 'redis',
    clicks,
    now: () => clock.now,
    clientIp: (request) => request.headers.get('x-test-ip') ?? '203.0.113.77',
    logError: (error) => {
      throw error;
    },
  };
}

export interface TestGateway {
  app: OpenAPIHono<any>;
  store: Store;
  clicks: ClickBuffer;
  impressions: ImpressionCounter;
  /** Writes every buffered click and impression, as the background flush would. */
  flush(): Promise<void>;
  redis: TestRedis;
  /** Moves the gateway's clock; it starts at the real time. */
  clock: { now: number };
  request(path: string, init?: RequestInit & { json?: unknown; key?: string }): Promise<Response>;
  /** A new merchant with its API key. */
  merchant(name?: string): Promise<{ id: string; apiKey: string }>;
  /** Mints a link as the given merchant, failing the test if it is refused. */
  mint(apiKey: string, body?: Record<string, unknown>): Promise<Link & { shortUrl: string; clicks: number }>;
  close(): Promise<void>;
}

/** The whole app over HTTP-shaped requests, on the real Redis, in a key namespace of its own. */
export async function testGateway(overrides: GatewayOverrides = {}): Promise<TestGateway> {
  const redis = await testRedis();
  const store = createRedisStore(redis.redis, { prefix: redis.prefix, ...(overrides.clickPolicy && { clickPolicy: overrides.clickPolicy }) });
  const clicks = new ClickBuffer(store, { enrich: clickEnricher(USER_AGENTS), batchSize: 500, maxBuffered: 100_000 });
  const clock = { now: Date.now() };
  const impressions = new ImpressionCounter(store);
  const { app } = createApp(testAppDeps(store, clicks, clock, { ...overrides, impressions }));

  const request: TestGateway['request'] = (path, init = {}) => {
    const { json, key, ...rest } = init;
    const headers = new Headers(rest.headers);
    // Every browser sends one; without it a tap would count as a bot's.
    if (!headers.has('user-agent')) headers.set('user-agent', SHOPPER_USER_AGENT);
    if (key !== undefined) headers.set('authorization', `Bearer ${key}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return Promise.resolve(app.request(path, { ...rest, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) }));
  };

  return {
    app,
    store,
    clicks,
    impressions,
    flush: async () => {
      await Promise.all([clicks.flush(), impressions.flush()]);
    },
    redis,
    clock,
    request,
    async merchant(name = 'Test merchant') {
      const res = await request('/v1/admin/merchants', { method: 'POST', key: ADMIN_TOKEN, json: { name } });
      if (res.status !== 201) throw new Error(`creating a merchant answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { id: string; apiKey: string };
    },
    async mint(apiKey, body = {}) {
      const res = await request('/v1/links', {
        method: 'POST',
        key: apiKey,
        json: { url: 'https://item.taobao.com/item.htm?id=123', noteId: 'note-42', category: 'beauty', ...body },
      });
      if (res.status !== 201) throw new Error(`minting answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as Link & { shortUrl: string; clicks: number };
    },
    async close() {
      await Promise.all([clicks.close(), impressions.close()]);
      await redis.cleanup();
    },
  };
}
