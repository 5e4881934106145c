import { Hono } from 'hono';
import { CODE_PATTERN, resolveLink } from '../../domain/link.js';
import type { UserAgentCache } from '../../domain/user-agent.js';
import type { ImpressionCounter } from '../../clicks/impressions.js';
import type { LinkCache } from '../../store/link-cache.js';

export interface ImpressionDeps {
  cache: LinkCache;
  userAgents: UserAgentCache;
  impressions: Pick<ImpressionCounter, 'record'>;
  now: () => number;
}

// The smallest transparent GIF: note pages embed it as <img src=".../i/CODE">.
const PIXEL = Uint8Array.from(atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'), (c) => c.charCodeAt(0));
const NO_STORE = { 'cache-control': 'no-store, max-age=0' };

/**
 * GET /i/:code, a note page's report that a link was shown. It answers the same whether or not
 * it counted (unknown, gone or a bot's view), so the pixel never breaks a page or leaks state.
 */
export function impressionRoutes(deps: ImpressionDeps): Hono {
  const routes = new Hono();
  routes.get('/i/:code', async (c) => {
    const code = c.req.param('code');
    const resolved = CODE_PATTERN.test(code) ? (deps.cache.peek(code) ?? (await deps.cache.get(code))) : null;
    const userAgent = c.req.header('user-agent') ?? '';
    // Counted only where a tap would redirect: not for a paused, expired, capped or no longer allowed link.
    const now = deps.now();
    const live = resolveLink(resolved, now);
    if (live.outcome === 'redirect' && !deps.userAgents.classify(userAgent).bot && c.req.method !== 'HEAD') {
      const { merchantId, code: linkCode, noteId, campaignId } = live.resolved.link;
      deps.impressions.record({ merchantId, linkCode, noteId, campaignId }, now);
    }
    const wantsImage = (c.req.header('accept') ?? '*/*').split(',').some((type) => /^\s*(image\/|\*\/\*)/.test(type));
    if (!wantsImage) return c.body(null, 204, NO_STORE);
    return c.body(PIXEL, 200, { ...NO_STORE, 'content-type': 'image/gif' });
  });
  return routes;
}
