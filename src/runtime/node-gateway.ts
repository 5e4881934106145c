import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { createApp } from '../app.js';
import { ClickBuffer } from '../clicks/buffer.js';
import { clickEnricher } from '../clicks/enrich.js';
import { ImpressionCounter } from '../clicks/impressions.js';
import { UserAgentCache } from '../domain/user-agent.js';
import { type Config, ConfigError, type Env, loadConfig } from '../config.js';
import type { LinkCache } from '../store/link-cache.js';
import type { LinkChangeListener } from '../store/types.js';
import { RepeatedFailureLog } from './failure-log.js';
import { FileClickSpool } from './file-spool.js';
import { SpoolInUseError } from './spool-lock.js';
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

/** Link changes pushed by the store reach this process's cache; while they do not, it re-reads links. */
function linkChangesInto(cache: LinkCache, ttlMs: number, log: Log): LinkChangeListener {
  return {
    changed: (code) => (code === null ? cache.invalidateAll() : cache.invalidate(code)),
    live: (pushed) => {
      cache.changesPushed(pushed);
      log(pushed ? 'hanglink: Redis pushes link changes to this process' : `hanglink: link changes are not pushed while Redis is away: links are re-read every ${ttlMs} ms`);
    },
    refused: (error) => log(`hanglink: Redis would not push link changes (${error.message}): links are re-read every ${ttlMs} ms`),
  };
}

async function openSpool(path: string, log: Log): Promise<FileClickSpool> {
  try {
    return await FileClickSpool.open(path, (line) => log(`hanglink: skipped an unreadable line of the click spool: ${line}`));
  } catch (error) {
    const reason = error instanceof SpoolInUseError ? error.message : `cannot open the click spool ${path}: ${(error as Error).message}`;
    throw new ConfigError([`${reason} (set HANGLINK_CLICK_SPOOL to a writable file, or to "off")`]);
  }
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

  const spool = config.clicks.spoolFile === null ? null : await openSpool(config.clicks.spoolFile, log);
  if (spool !== null && spool.size.clicks > 0) {
    log(`hanglink: ${spool.size.clicks} clicks in the spool ${config.clicks.spoolFile} from an earlier run; writing them to Redis first`);
  }
  const { store, kind, ready } = openStore(config, log);
  await ready;
  const userAgents = new UserAgentCache();
  const flushes = new RepeatedFailureLog(log, { failed: 'hanglink: click flush failed, will retry', recovered: 'hanglink: clicks are written to the store again' });
  const spoolWrites = new RepeatedFailureLog(log, {
    failed: 'hanglink: click spool write failed, clicks stay in memory',
    recovered: 'hanglink: the click spool takes clicks again',
  });
  const clicks = new ClickBuffer(store, {
    enrich: clickEnricher(userAgents),
    batchSize: config.clicks.batchSize,
    maxBuffered: config.clicks.maxBuffered,
    ...(spool === null ? {} : { spool, spoolAfter: config.clicks.spoolAfter }),
    onFlushError: (error) => flushes.failed(error),
    onFlushed: () => flushes.succeeded(),
    onSpoolError: (error) => spoolWrites.failed(error),
    onSpooled: () => spoolWrites.succeeded(),
  });
  clicks.start(config.clicks.flushIntervalMs);
  const impressionFlushes = new RepeatedFailureLog(log, {
    failed: 'hanglink: impression flush failed, counts stay in memory',
    recovered: 'hanglink: impression counts are written to the store again',
  });
  const impressions = new ImpressionCounter(store, { onFlushError: (error) => impressionFlushes.failed(error), onFlushed: () => impressionFlushes.succeeded() });
  impressions.start(config.clicks.flushIntervalMs);

  // Bound before the app is built, so that with PORT=0 short URLs name the port the system gave. No
  // request is taken until the handler is in place: nothing below waits before that.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  const port = (server.address() as AddressInfo).port;
  const served = config.port === 0 && env.HANGLINK_PUBLIC_URL === undefined ? { ...config, publicUrl: `http://localhost:${port}` } : config;
  const { app, plainTap, linkCache } = createApp({ config: served, store, storeKind: kind, clicks, impressions, userAgents, clientIp: clientIp(config.trustProxy) });
  const linkChanges = store.watchLinkChanges?.(linkChangesInto(linkCache, config.linkCache.ttlMs, log));
  server.on('request', withFastTaps(plainTap, getRequestListener(app.fetch), config.trustProxy));
  log(`hanglink: listening on http://localhost:${port} (store: ${kind}, short URLs: ${served.publicUrl}/<code>)`);

  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      const [written, counted] = await Promise.allSettled([clicks.close(), impressions.close()]);
      if (counted.status === 'rejected') log(`hanglink: impression counts not written: ${(counted.reason as Error).message}`);
      if (spool !== null && spool.size.clicks > 0) {
        log(`hanglink: Redis did not take ${spool.size.clicks} clicks; they stay in ${config.clicks.spoolFile} for the next start`);
      }
      await spool?.close();
      await linkChanges?.close();
      await store.close().catch(() => {});
      if (written.status === 'rejected') throw written.reason;
    })());
  return { config: served, port, clicks, shutdown };
}
