import { Hono } from 'hono';
import { CODE_PATTERN, type GoneReason, type ResolvedLink, resolveLink } from '../../domain/link.js';
import type { LinkCache } from '../../store/link-cache.js';
import { answerTap, REDIRECT_HEADERS, type Tap, type TapDeps } from '../tap.js';
import { appInterstitialPage } from '../pages/app-interstitial.js';
import { problemBody, problemResponse } from '../problems.js';

export interface RedirectDeps extends TapDeps {
  cache: LinkCache;
  now: () => number;
  clientIp: (request: Request, env: unknown) => string | undefined;
}

const GONE_DETAIL: Record<GoneReason, string> = {
  expired: 'This link has expired.',
  paused: 'This link is paused by its merchant.',
  deleted: 'This link was removed by its merchant.',
  'click-cap-reached': 'This link has reached the number of clicks its merchant set.',
  'destination-not-allowed': 'This link leads to a site the gateway no longer sends shoppers to.',
};

function page(status: number, title: string, detail: string): Response {
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem"><h1>${title}</h1><p>${detail}</p></body></html>`;
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
}

/** A browser gets a small page, an API client a problem document. */
function refusal(request: Request, status: 404 | 410, code: string, title: string, detail: string): Response {
  if (request.headers.get('accept')?.includes('text/html')) return page(status, title, detail);
  return problemResponse(problemBody(status, code, title, detail));
}

const notFound = (request: Request) =>
  refusal(request, 404, 'link-not-found', 'Link not found', 'No link has this address; check it was copied whole.');

// Without a stated length, node:http frames an empty body as chunked: the same answer would then differ
// by whether the link was cached (and a link routed by device is always answered here).
function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { location, ...REDIRECT_HEADERS, 'content-length': '0' } });
}

/**
 * GET /:code, the shopper's tap. On a cache hit it does string work and an array push, and never
 * awaits I/O: the click goes to the buffer, which writes it to the store in the background.
 */
export function redirectRoutes(deps: RedirectDeps): Hono {
  const routes = new Hono();

  const answer = (request: Request, env: unknown, resolved: ResolvedLink | null): Response => {
    const nowMs = deps.now();
    const resolution = resolveLink(resolved, nowMs);
    if (resolution.outcome === 'not-found') return notFound(request);
    if (resolution.outcome === 'gone') return refusal(request, 410, `link-${resolution.reason}`, 'Link gone', GONE_DETAIL[resolution.reason]);
    const tap: Tap = { method: request.method, header: (name) => request.headers.get(name) ?? undefined, ip: deps.clientIp(request, env) };
    const answered = answerTap(deps, resolution.resolved, tap, nowMs);
    return answered.kind === 'redirect' ? redirect(answered.location) : appInterstitialPage(answered.appUrl, answered.fallbackUrl);
  };

  routes.get('/:code', (c): Response | Promise<Response> => {
    const code = c.req.param('code');
    if (!CODE_PATTERN.test(code)) return notFound(c.req.raw);
    const cached = deps.cache.peek(code);
    if (cached !== undefined) return answer(c.req.raw, c.env, cached);
    return deps.cache.get(code).then((resolved) => answer(c.req.raw, c.env, resolved));
  });

  return routes;
}

/**
 * The common tap, answered without building a Request: a cached, live link that does not route by
 * device. Returns its Location (the click is queued), or null when the full route must answer.
 * Runtimes with a cheaper path than Request/Response (Node) put it in front of the app.
 */
export function plainTap(deps: RedirectDeps): (code: string, tap: Tap) => string | null {
  return (code, tap) => {
    if (!CODE_PATTERN.test(code)) return null;
    const resolved = deps.cache.peek(code);
    if (resolved == null || resolved.routesByDevice) return null;
    const nowMs = deps.now();
    if (resolveLink(resolved, nowMs).outcome !== 'redirect') return null;
    const answered = answerTap(deps, resolved, tap, nowMs);
    return answered.kind === 'redirect' ? answered.location : null;
  };
}
