import { Hono } from 'hono';

// A store that is down must not hang the probe: an orchestrator waits on it.
const PING_TIMEOUT_MS = 1000;

function withTimeout(ping: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('store ping timed out')), PING_TIMEOUT_MS);
  });
  return Promise.race([ping, timeout]).finally(() => clearTimeout(timer));
}

export interface HealthDeps {
  ping: () => Promise<void>;
  /** Clicks in memory and in the spool, not yet in the store; and clicks dropped for want of room. */
  clickBacklog: () => { buffered: number; spooled: number; spoolBytes: number; dropped: number };
  storeKind: 'redis' | 'memory';
}

/** /healthz: the process answers. /readyz: it can also reach its store, and says how far behind its clicks are. */
export function healthRoutes(deps: HealthDeps): Hono {
  const routes = new Hono();
  routes.get('/healthz', (c) => c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store' }));
  routes.get('/readyz', async (c) => {
    const clicks = deps.clickBacklog();
    try {
      await withTimeout(deps.ping());
      return c.json({ status: 'ready', store: deps.storeKind, clicks }, 200, { 'cache-control': 'no-store' });
    } catch {
      return c.json({ status: 'unavailable', store: deps.storeKind, clicks }, 503, { 'cache-control': 'no-store', 'retry-after': '1' });
    }
  });
  return routes;
}
