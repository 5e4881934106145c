import { createApp } from '../app.js';
import { ClickBuffer } from '../clicks/buffer.js';
import { clickEnricher } from '../clicks/enrich.js';
import { ImpressionCounter } from '../clicks/impressions.js';
import { UserAgentCache } from '../domain/user-agent.js';
import { type Config, type Env, loadConfig } from '../config.js';
import type { Store } from '../store/types.js';
import defaultCategories from '../../config/categories.json' with { type: 'json' };
import { RepeatedFailureLog } from './failure-log.js';
import { openStore } from './store.js';

/** The slice of the Workers runtime this entry uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** What serves one request: an app over a store, and the buffers its clicks and impressions wait in. */
interface Served {
  fetch: (request: Request, env: unknown) => Response | Promise<Response>;
  clicks: ClickBuffer;
  impressions: ImpressionCounter;
}

/** What an isolate keeps between requests: nothing that holds a connection. */
interface Isolate {
  config: Config;
  userAgents: UserAgentCache;
  /** Every request flushes, so while the store is away every request would log its failure. */
  flushes: RepeatedFailureLog;
  /** Without Redis, the in-process store and the app over it, kept for the isolate's life. */
  inProcess: Served | null;
}

// Config is read once per isolate, on its first request: Workers hand bindings to fetch, not to module scope.
let isolate: Isolate | undefined;

function serve(config: Config, store: Store, kind: 'redis' | 'memory', userAgents: UserAgentCache): Served {
  const clicks = new ClickBuffer(store, { enrich: clickEnricher(userAgents), batchSize: config.clicks.batchSize, maxBuffered: config.clicks.maxBuffered });
  const impressions = new ImpressionCounter(store);
  const { app } = createApp({
    config,
    store,
    storeKind: kind,
    clicks,
    impressions,
    userAgents,
    clientIp: (request) => request.headers.get('cf-connecting-ip') ?? undefined,
  });
  return { fetch: app.fetch, clicks, impressions };
}

function startIsolate(env: Env): Isolate {
  const { config, generated } = loadConfig(env, () => env.HANGLINK_CATEGORIES ?? JSON.stringify(defaultCategories));
  // In development, as the Node entry does; each isolate makes its own, so set them for more than a try-out.
  if (generated.adminToken !== undefined) console.log(`hanglink: development mode, generated HANGLINK_ADMIN_TOKEN=${generated.adminToken}`);
  if (generated.signingKey !== undefined) console.log(`hanglink: development mode, generated HANGLINK_SIGNING_KEYS=${generated.signingKey}`);
  const userAgents = new UserAgentCache();
  const flushes = new RepeatedFailureLog((line) => console.error(line), {
    failed: 'hanglink: flush failed, clicks and impressions not written',
    recovered: 'hanglink: clicks and impressions are written to the store again',
  });
  const inProcess = config.redisUrl === null ? serve(config, openStore(config, (line) => console.log(line)).store, 'memory', userAgents) : null;
  return { config, userAgents, flushes, inProcess };
}

/** The app for this request, and what to do once its writes are done. */
async function servedFor(current: Isolate): Promise<{ served: Served; done: () => Promise<void> }> {
  if (current.inProcess !== null) return { served: current.inProcess, done: async () => {} };
  // The Workers runtime lets no request use a socket another request opened: with Redis, each request
  // opens its own connection, and closes it once what the request buffered is written.
  // A second at most for it: while Redis is away every request waits that long, then answers 503.
  const { store, ready } = openStore(current.config, (line) => console.log(line), { readyWaitMs: 1000 });
  const done = () => store.close().catch(() => {});
  try {
    await ready;
  } catch (error) {
    await done();
    throw error;
  }
  return { served: serve(current.config, store, 'redis', current.userAgents), done };
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    isolate ??= startIsolate(env);
    const { flushes } = isolate;
    const { served, done } = await servedFor(isolate);
    try {
      return await served.fetch(request, env);
    } finally {
      // Written after answering: what this request buffered, and nothing of another's.
      ctx.waitUntil(
        Promise.all([served.clicks.flush(), served.impressions.flush()])
          .then(
            () => flushes.succeeded(),
            (error: unknown) => flushes.failed(error),
          )
          .finally(done),
      );
    }
  },
};
