import type { UserAgentInfo } from './user-agent.js';

/** Where a link may send a visitor; every URL here was vetted when the link was saved. */
export interface LinkRoutes {
  url: string;
  appUrl: string | null;
  ios: string | null;
  android: string | null;
  desktop: string | null;
}

export type RouteChoice =
  | { kind: 'web'; route: 'web' | 'ios' | 'android' | 'desktop'; url: string }
  | { kind: 'android-intent'; appUrl: string; fallbackUrl: string }
  | { kind: 'ios-interstitial'; appUrl: string; fallbackUrl: string };

type WebChoice = Extract<RouteChoice, { kind: 'web' }>;

function webTarget(routes: LinkRoutes, { platform }: UserAgentInfo): WebChoice {
  const specific = platform === 'other' ? null : routes[platform];
  if (platform === 'other' || specific === null) return { kind: 'web', route: 'web', url: routes.url };
  return { kind: 'web', route: platform, url: specific };
}

/**
 * Picks what a tap gets. A phone or tablet in a standalone browser is offered the app, with its
 * platform's web page as the fallback. Apps' embedded web views mostly refuse other apps' schemes
 * (WeChat always does), so their visitors get the web page directly, as does everyone on a desktop.
 * Bots get the main URL: what a crawler or link preview sees should not depend on how it poses.
 */
export function chooseRoute(routes: LinkRoutes, ua: UserAgentInfo): RouteChoice {
  if (ua.bot) return { kind: 'web', route: 'web', url: routes.url };
  const web = webTarget(routes, ua);
  if (routes.appUrl === null || ua.inApp !== '') return web;
  if (ua.platform === 'android') return { kind: 'android-intent', appUrl: routes.appUrl, fallbackUrl: web.url };
  if (ua.platform === 'ios') return { kind: 'ios-interstitial', appUrl: routes.appUrl, fallbackUrl: web.url };
  return web;
}

/**
 * Chrome's intent syntax for an app link (a vetted `scheme://host/path?query`, no fragment): the app
 * opens if installed, otherwise Chrome goes to the fallback. It names no `package=`: we do not know the
 * Android package behind every configured scheme, and without one Chrome still uses the fallback
 * when no installed app handles the scheme.
 */
export function androidIntentUrl(appUrl: string, fallbackUrl: string): string {
  const schemeEnd = appUrl.indexOf('://');
  const scheme = appUrl.slice(0, schemeEnd);
  const rest = appUrl.slice(schemeEnd + 3);
  return `intent://${rest}#Intent;scheme=${scheme};S.browser_fallback_url=${encodeURIComponent(fallbackUrl)};end`;
}
