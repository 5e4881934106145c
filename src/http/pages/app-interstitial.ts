import { createHash } from 'node:crypto';

// The script never changes: it reads both URLs from the links below, so no URL is ever written into
// script context, and its CSP hash is computed once rather than per tap.
// If the app opens, the page is hidden and the fallback timer is cancelled; if nothing happens, the
// browser moves on to the web page, replacing this page so Back does not bounce into the app again.
const SCRIPT =
  'var t=setTimeout(function(){location.replace(document.getElementById("web").getAttribute("href"))},1500);' +
  'function stop(){clearTimeout(t)}' +
  'addEventListener("pagehide",stop);' +
  'document.addEventListener("visibilitychange",function(){if(document.hidden)stop()});' +
  'location.href=document.getElementById("app").getAttribute("href")';
const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem;text-align:center}a{display:block;margin:1rem 0}';

const cspHash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer-when-downgrade',
  'content-security-policy': `default-src 'none'; script-src ${cspHash(SCRIPT)}; style-src ${cspHash(STYLE)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
};

const escapeAttribute = (value: string) =>
  value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The iPhone hop to an app: iOS offers no intent URL with a fallback, so this page tries the app
 * and falls back to the web page after a short wait. Both URLs arrive final, attribution included.
 */
export function appInterstitialPage(appUrl: string, fallbackUrl: string): Response {
  const app = escapeAttribute(appUrl);
  const web = escapeAttribute(fallbackUrl);
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>Opening the app</title><style>${STYLE}</style><noscript><meta http-equiv="refresh" content="0;url=${web}"></noscript></head>` +
    `<body><a id="app" href="${app}">Open in app</a><a id="web" href="${web}">Continue in browser</a><script>${SCRIPT}</script></body></html>`;
  return new Response(html, { status: 200, headers: HEADERS });
}
