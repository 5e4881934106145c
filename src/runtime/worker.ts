import { createApp } from '../app.js';
import { ClickBuffer } from '../clicks/buffer.js';
import { clickEnricher } from '../clicks/enrich.js';
import { ImpressionCounter } from '../clicks/impressions.js';
import { UserAgentCache } from '../domain/user-agent.js';
import { type Env, loadConfig } from '../config.js';
import defaultCategories from '../../config/categories.json' with { type: 'json' };
import { RepeatedFailureLog } from './failure-log.js';
import { openStore } from './store.js';

/** The slice of the Workers runtime this entry uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

type Built = {
  fetch: (request: Request, env: unknown) => Response | Promise<Response>;
  clicks: ClickBuffer;
  impressions: ImpressionCounter;
  /** Every request flushes, so while the store is away every request would log its failure. */
  flushes: RepeatedFailureLog;
  /** The first connection to the store (or start-up giving up on it); requests wait for it once. */
  ready: Promise<void>;
};

// Config is read once per isolate, on its first request: Workers hand bindings to fetch, not to module scope.
let built: Built | undefined;

function build(env: Env): Built {
  const { config } = loadConfig(env, () => env.HANGLINK_CATEGORIES ?? JSON.stringify(defaultCategories));
  const { store, kind, ready } = openStore(config, (line) => console.log(line));
  const userAgents = new UserAgentCache();
  const clicks = new ClickBuffer(store, {
    enrich: clickEnricher(userAgents),
    batchSize: config.clicks.batchSize,
    maxBuffered: config.clicks.maxBuffered,
  });
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
  const flushes = new RepeatedFailureLog((line) => console.error(line), {
    failed: 'hanglink: flush failed, clicks and impressions stay in memory',
    recovered: 'hanglink: clicks and impressions are written to the store again',
  });
  return { fetch: app.fetch, clicks, impressions, flushes, ready };
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    built ??= build(env);
    await built.ready;
    const response = await built.fetch(request, env);
    // An isolate has no timers between requests: each request writes what it buffered after answering.
    const { clicks, impressions, flushes } = built;
    ctx.waitUntil(
      Promise.all([clicks.flush(), impressions.flush()]).then(
        () => flushes.succeeded(),
        (error: unknown) => flushes.failed(error),
      ),
    );
    return response;
  },
};
