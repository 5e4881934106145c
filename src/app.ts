import { OpenAPIHono } from '@hono/zod-openapi';
import type { Config } from './config.js';
import { CapEstimate } from './domain/cap-estimate.js';
import type { ClickRecord } from './domain/click.js';
import type { UserAgentCache } from './domain/user-agent.js';
import type { Ids } from './ids.js';
import { randomIds } from './ids.js';
import type { AppEnv } from './http/env.js';
import { adminAuth, merchantAuth } from './http/middleware/auth.js';
import { limitBody, limitJsonDepth, requireJson } from './http/middleware/body.js';
import { noStore } from './http/middleware/no-store.js';
import { merchantRateLimit } from './http/middleware/rate-limit.js';
import { problemBody, problemResponse, toProblemResponse } from './http/problems.js';
import { adminRoutes } from './http/routes/admin.js';
import { healthRoutes } from './http/routes/health.js';
import { linkRoutes } from './http/routes/links.js';
import { plainTap, type RedirectDeps, redirectRoutes } from './http/routes/redirect.js';
import type { Tap } from './http/tap.js';
import { attributionRoutes } from './http/routes/attribution.js';
import { campaignRoutes } from './http/routes/campaigns.js';
import { clickRoutes } from './http/routes/clicks.js';
import { conversionRoutes } from './http/routes/conversions.js';
import { impressionRoutes } from './http/routes/impressions.js';
import { statsRoutes } from './http/routes/stats.js';
import type { ImpressionCounter } from './clicks/impressions.js';
import { LinkCache } from './store/link-cache.js';
import type { Store, StoreOutage } from './store/types.js';

export interface ClickQueue {
  push(click: ClickRecord): void;
  readonly depth: number;
  readonly spooled: { clicks: number; bytes: number };
  readonly dropped: number;
}

export interface AppDeps {
  config: Pick<
    Config,
    | 'publicUrl'
    | 'allowedHosts'
    | 'categories'
    | 'adminToken'
    | 'signingKeys'
    | 'linkCache'
    | 'appSchemes'
    | 'apiRateLimitPerMinute'
    | 'attributionWindowMs'
    | 'clickPolicy'
  >;
  store: Store;
  storeKind: 'redis' | 'memory';
  clicks: ClickQueue;
  impressions: Pick<ImpressionCounter, 'record'>;
  /** Shared with the click buffer's enrichment, so a user agent is parsed once per process. */
  userAgents: UserAgentCache;
  /** ms since epoch */
  now?: () => number;
  ids?: Ids;
  /** The runtime knows where the client address is (socket, proxy header, platform header). */
  clientIp?: (request: Request, env: unknown) => string | undefined;
  logError?: (error: unknown) => void;
}

const DEFAULT_BODY_LIMIT = 64 * 1024;
const BULK_BODY_LIMIT = 2 * 1024 * 1024;
/** No API body needs more than a few levels; deeper ones are refused before they are parsed or validated. */
const MAX_JSON_DEPTH = 32;

// A store that cannot be reached is usually back within seconds; a full one waits for an operator.
const OUTAGE_ANSWERS: Record<StoreOutage, { detail: string; retryAfter: string }> = {
  unreachable: { detail: 'The gateway cannot reach its store right now; retry shortly.', retryAfter: '1' },
  full: { detail: 'The gateway’s store is out of memory and refuses writes until it has room; retry later.', retryAfter: '30' },
};

/** Builds the whole gateway from its dependencies; runtime entries only wire these and serve it. */
export interface BuiltApp {
  app: OpenAPIHono<AppEnv>;
  linkCache: LinkCache;
  /** The fast path for a runtime that can skip Request/Response on the common tap; see redirect.ts. */
  plainTap: (code: string, tap: Tap) => string | null;
}

export function createApp(deps: AppDeps): BuiltApp {
  const now = deps.now ?? Date.now;
  const ids = deps.ids ?? randomIds;
  const logError = deps.logError ?? ((error: unknown) => console.error('hanglink: unhandled error', error));
  const { config, store } = deps;
  const signingKey = config.signingKeys[0];
  if (signingKey === undefined) throw new Error('createApp needs at least one signing key');

  const linkCache = new LinkCache(store, { ...config.linkCache, allowedHosts: config.allowedHosts, now });
  const app = new OpenAPIHono<AppEnv>();

  app.use('/v1/*', noStore);
  app.use('/v1/admin/*', adminAuth(config.adminToken));
  const authenticate = merchantAuth(store);
  const rateLimit = merchantRateLimit(store, config.apiRateLimitPerMinute, now);
  app.use('/v1/*', async (c, next) => {
    if (c.req.path.startsWith('/v1/admin/')) return next();
    await authenticate(c, async () => {
      await rateLimit(c, next);
    });
  });
  app.use('/v1/*', requireJson);
  const defaultLimit = limitBody(DEFAULT_BODY_LIMIT);
  const bulkLimit = limitBody(BULK_BODY_LIMIT);
  app.use('/v1/*', (c, next) => (c.req.path === '/v1/links/bulk' ? bulkLimit(c, next) : defaultLimit(c, next)));
  app.use('/v1/*', limitJsonDepth(MAX_JSON_DEPTH));

  app.route('/', adminRoutes({ store, ids, categories: config.categories, now }));
  app.route(
    '/',
    linkRoutes({
      store,
      ids,
      now,
      publicUrl: config.publicUrl,
      rules: { allowedHosts: config.allowedHosts, categories: config.categories, appSchemes: config.appSchemes },
      onChange: (code) => linkCache.invalidate(code),
    }),
  );
  const attribution = { store, attributionWindowMs: config.attributionWindowMs, now };
  app.route('/', conversionRoutes(attribution));
  app.route('/', attributionRoutes({ ...attribution, keys: config.signingKeys }));
  app.route('/', campaignRoutes(store));
  app.route('/', statsRoutes(store, now));
  app.route('/', clickRoutes(store, now));
  app.route('/', impressionRoutes({ cache: linkCache, userAgents: deps.userAgents, impressions: deps.impressions, now }));
  app.route(
    '/',
    healthRoutes({
      ping: () => store.ping(),
      storeKind: deps.storeKind,
      clickBacklog: () => {
        const spooled = deps.clicks.spooled;
        return { buffered: deps.clicks.depth, spooled: spooled.clicks, spoolBytes: spooled.bytes, dropped: deps.clicks.dropped };
      },
    }),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'merchantKey', { type: 'http', scheme: 'bearer', description: 'Merchant API key' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer', description: 'Operator token' });
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'hanglink', version: '1', description: 'Ad hang-link redirect and click-tracking gateway: merchant and operator API.' },
  });

  const redirects: RedirectDeps = {
    cache: linkCache,
    userAgents: deps.userAgents,
    signingKey,
    newClickId: ids.clickId,
    now,
    recordClick: (click) => deps.clicks.push(click),
    capEstimate: new CapEstimate(config.clickPolicy.floodLimitPerMinute),
    clientIp: deps.clientIp ?? (() => undefined),
  };
  app.route('/', redirectRoutes(redirects));

  app.notFound((c) => problemResponse(problemBody(404, 'not-found', 'Not found', `Nothing is at ${c.req.method} ${c.req.path}.`)));
  app.onError((error) => {
    const outage = store.outage(error);
    if (outage === null) return toProblemResponse(error, logError);
    const { detail, retryAfter } = OUTAGE_ANSWERS[outage];
    return problemResponse(problemBody(503, 'store-unavailable', 'Service unavailable', detail), { 'retry-after': retryAfter });
  });
  return { app, linkCache, plainTap: plainTap(redirects) };
}
