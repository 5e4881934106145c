import { Hono } from 'hono';
import { type AttributionFields, attributionQuery, type SigningKey } from '../../domain/attribution.js';
import { type ClickFacts, clickRecord, type ClickRecord, type ClickRoute } from '../../domain/click.js';
import { type Destination, splitVettedUrl } from '../../domain/destination.js';
import { androidIntentUrl, chooseRoute } from '../../domain/device-routing.js';
import { CODE_PATTERN, type GoneReason, type ResolvedLink, resolveLink } from '../../domain/link.js';
import type { UserAgentCache } from '../../domain/user-agent.js';
import type { LinkCache } from '../../store/link-cache.js';
import { appInterstitialPage } from '../pages/app-interstitial.js';
import { problemBody, problemResponse } from '../problems.js';

export interface RedirectDeps {
  cache: LinkCache;
  userAgents: UserAgentCache;
  signingKey: SigningKey;
  newClickId: () => string;
  now: () => number;
  recordClick: (click: ClickRecord) => void;
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

// Browsers announce speculative fetches; no shopper has tapped yet, so they are answered but not counted.
function isPrefetch(headers: Headers): boolean {
  const purpose = headers.get('sec-purpose') ?? headers.get('purpose') ?? headers.get('x-purpose') ?? headers.get('x-moz');
  return purpose !== null && purpose.toLowerCase().includes('prefetch');
}

const REDIRECT_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer-when-downgrade' };

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { location, ...REDIRECT_HEADERS } });
}

/**
 * GET /:code, the shopper's tap. On a cache hit it does string work and an array push, and never
 * awaits I/O: the click goes to the buffer, which writes it to the store in the background.
 */
export function redirectRoutes(deps: RedirectDeps): Hono {
  const routes = new Hono();

  const answer = (request: Request, env: unknown, code: string, resolved: ResolvedLink | null): Response => {
    const nowMs = deps.now();
    const resolution = resolveLink(resolved, nowMs);
    if (resolution.outcome === 'not-found') return notFound(request);
    if (resolution.outcome === 'gone') return refusal(request, 410, `link-${resolution.reason}`, 'Link gone', GONE_DETAIL[resolution.reason]);

    const { link } = resolution.resolved;
    const headers = request.headers;
    const userAgent = headers.get('user-agent') ?? undefined;
    const fields: AttributionFields = { clickId: deps.newClickId(), linkCode: code, noteId: link.noteId, timestamp: Math.floor(nowMs / 1000) };
    const signed = (destination: Destination) =>
      `${destination.base}${destination.querySeparator}${attributionQuery(destination.base, fields, deps.signingKey)}${destination.fragment}`;

    let route: ClickRoute = 'web';
    let response: Response;
    if (!resolution.resolved.routesByDevice) {
      response = redirect(signed(resolution.resolved.destination));
    } else {
      const choice = chooseRoute(link, deps.userAgents.classify(userAgent ?? ''));
      if (choice.kind === 'web') {
        route = choice.route;
        response = redirect(signed(splitVettedUrl(choice.url)));
      } else {
        route = 'app';
        const appUrl = signed(splitVettedUrl(choice.appUrl));
        const fallbackUrl = signed(splitVettedUrl(choice.fallbackUrl));
        response = choice.kind === 'android-intent' ? redirect(androidIntentUrl(appUrl, fallbackUrl)) : appInterstitialPage(appUrl, fallbackUrl);
      }
    }

    // A HEAD fetches no page and a prefetch is not a tap: link checkers, previews and browsers' guesses.
    if (request.method !== 'HEAD' && !isPrefetch(headers)) {
      const facts: ClickFacts = {
        userAgent,
        referrer: headers.get('referer') ?? undefined,
        acceptLanguage: headers.get('accept-language') ?? undefined,
        ip: deps.clientIp(request, env),
      };
      // The cap counts billable clicks: a bot's or link preview's tap must not use it up.
      if (link.maxClicks !== null && !deps.userAgents.classify(userAgent ?? '').bot) resolution.resolved.clicksSoFar++;
      deps.recordClick(
        clickRecord(
          { clickId: fields.clickId, linkCode: code, merchantId: link.merchantId, noteId: link.noteId, campaignId: link.campaignId, at: nowMs, route },
          facts,
        ),
      );
    }
    return response;
  };

  routes.get('/:code', (c): Response | Promise<Response> => {
    const code = c.req.param('code');
    if (!CODE_PATTERN.test(code)) return notFound(c.req.raw);
    const cached = deps.cache.peek(code);
    if (cached !== undefined) return answer(c.req.raw, c.env, code, cached);
    return deps.cache.get(code).then((resolved) => answer(c.req.raw, c.env, code, resolved));
  });

  return routes;
}
