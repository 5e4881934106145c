import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { createApp } from '../app.js';
import { ClickBuffer } from '../clicks/buffer.js';
import { clickEnricher } from '../clicks/enrich.js';
import { ImpressionCounter } from '../clicks/impressions.js';
import { UserAgentCache } from '../domain/user-agent.js';
import { type Config, type Env, loadConfig } from '../config.js';
import { nodeClientIp, withFastTaps } from './node-fast-tap.js';
import { type Log, openStore } from './store.js';

const DEFAULT_CATEGORIES = new URL('../../config/categories.json', import.meta.url);

export interface Gateway {
  config: Config;
  port: number;
  clicks: ClickBuffer;
  /** Stops accepting, finishes requests in flight, writes every buffered click, closes the store. */
  shutdown(): Promise<void>;
}

function clientIp(trustProxy: boolean) {
  return (request: Request, env: unknown): string | undefined =>
    nodeClientIp(trustProxy, request.headers.get('x-forwarded-for') ?? undefined, (env as HttpBindings | undefined)?.incoming?.socket.remoteAddress);
}

/** Reads the configuration, wires the dependencies and starts serving. Throws ConfigError on bad config. */
export async function startGateway(env: Env, log: Log = (line) => console.log(line)): Promise<Gateway> {
  const categoriesFile = env.HANGLINK_CATEGORIES_FILE;
  const { config, generated } = loadConfig(env, () => readFileSync(categoriesFile ?? DEFAULT_CATEGORIES, 'utf8'));
  if (generated.adminToken !== undefined || generated.signingKey !== undefined) {
    log('hanglink: development mode, generated secrets (set them in the environment to keep them across restarts):');
    if (generated.adminToken !== undefined) log(`  HANGLINK_ADMIN_TOKEN=${generated.adminToken}`);
    if (generated.signingKey !== undefined) log(`  HANGLINK_SIGNING_KEYS=${generated.signingKey}`);
  }

  const { store, kind, ready } = openStore(config, log);
  await ready;
  const userAgents = new UserAgentCache();
  const clicks = new ClickBuffer(store, {
    enrich: clickEnricher(userAgents),
    batchSize: config.clicks.batchSize,
    maxBuffered: config.clicks.maxBuffered,
    onFlushError: (error) => log(`hanglink: click flush failed, will retry: ${(error as Error).message}`),
  });
  clicks.start(config.clicks.flushIntervalMs);
  const impressions = new ImpressionCounter(store);
  impressions.start(config.clicks.flushIntervalMs);
  const { app, plainTap } = createApp({ config, store, storeKind: kind, clicks, impressions, userAgents, clientIp: clientIp(config.trustProxy) });

  const server = createServer(withFastTaps(plainTap, getRequestListener(app.fetch), config.trustProxy));
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  const port = (server.address() as AddressInfo).port;
  log(`hanglink: listening on http://localhost:${port} (store: ${kind}, short URLs: ${config.publicUrl}/<code>)`);

  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await Promise.all([clicks.close(), impressions.close()]);
      await store.close();
    })());
  return { config, port, clicks, shutdown };
}
