import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { appInterstitialPage } from '../../src/http/pages/app-interstitial.js';

const APP = 'taobao://item.taobao.com/item.htm?id=123&hl_cid=c1&hl_sig=s1';
const FALLBACK = 'https://item.taobao.com/item.htm?id=123&hl_cid=c1&hl_sig=s1';
const HOSTILE = 'https://item.taobao.com/item.htm?q="x"\'y\'</script><script>alert(1)</script>&a=<b>\u2028\u2029';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const unescapeHtml = (value: string) =>
  value.replace(/&#(\d+);|&(amp|lt|gt|quot);/g, (_m, code: string | undefined, name: string | undefined) =>
    code !== undefined ? String.fromCharCode(Number(code)) : { amp: '&', lt: '<', gt: '>', quot: '"' }[name!]!,
  );

function hrefOf(html: string, id: string): string {
  const match = new RegExp(`<a id="${id}" href="([^"]*)">`).exec(html);
  expect(match, `link #${id}`).not.toBeNull();
  return unescapeHtml(match![1]!);
}

function directives(csp: string): Map<string, string> {
  return new Map(csp.split(';').map((part) => part.trim().split(/\s+(.*)/s) as [string, string]));
}

/** Runs the page's script against a stand-in browser and reports where it navigated. */
function runScript(html: string) {
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
  const links: Record<string, string> = { app: hrefOf(html, 'app'), web: hrefOf(html, 'web') };
  const navigations: string[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const listeners: Record<string, Array<() => void>> = {};
  const listen = (event: string, fn: () => void) => (listeners[event] ??= []).push(fn);
  const document = {
    hidden: false,
    getElementById: (id: string) => ({ getAttribute: (name: string) => (name === 'href' ? links[id] : null) }),
    addEventListener: listen,
  };
  const location = {
    set href(url: string) {
      navigations.push(`href ${url}`);
    },
    replace: (url: string) => navigations.push(`replace ${url}`),
  };
  runInNewContext(script, {
    document,
    location,
    addEventListener: listen,
    setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms, cleared: false }) - 1,
    clearTimeout: (id: number) => {
      if (timers[id]) timers[id].cleared = true;
    },
  });
  return {
    navigations,
    timers,
    fire(event: string, hidden = false) {
      document.hidden = hidden;
      for (const fn of listeners[event] ?? []) fn();
    },
    elapse() {
      for (const timer of timers) if (!timer.cleared) timer.fn();
    },
  };
}

describe('appInterstitialPage', () => {
  it('answers 200 with an HTML page nothing may cache', () => {
    const response = appInterstitialPage(APP, FALLBACK);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer-when-downgrade');
  });

  it('links to the app and to the web page', async () => {
    const html = await appInterstitialPage(APP, FALLBACK).text();
    expect(hrefOf(html, 'app')).toBe(APP);
    expect(hrefOf(html, 'web')).toBe(FALLBACK);
    expect(html).toContain('Open in app');
    expect(html).toContain('Continue in browser');
  });

  it('falls back to the web page without JavaScript', async () => {
    const html = await appInterstitialPage(APP, FALLBACK).text();
    const refresh = /<noscript><meta http-equiv="refresh" content="0;url=([^"]*)"><\/noscript>/.exec(html);
    expect(refresh).not.toBeNull();
    expect(unescapeHtml(refresh![1]!)).toBe(FALLBACK);
  });

  it('allows only its own inline script and style, by hash, and nothing from elsewhere', async () => {
    const response = appInterstitialPage(APP, FALLBACK);
    const html = await response.text();
    const csp = directives(response.headers.get('content-security-policy') ?? '');
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    const styles = [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/g)];
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    expect(csp.get('default-src')).toBe("'none'");
    expect(csp.get('script-src')).toBe(sha256(scripts[0]![1]!));
    expect(csp.get('style-src')).toBe(sha256(styles[0]![1]!));
    expect(csp.get('base-uri')).toBe("'none'");
    expect(html).not.toMatch(/\ssrc=|<link\b|<img\b|<iframe\b|\sstyle=|\son[a-z]+=/i);
  });

  it('keeps the same script, and so the same hash, whatever the URLs', async () => {
    const one = appInterstitialPage(APP, FALLBACK);
    const other = appInterstitialPage('tmall://detail.tmall.com/item.htm?id=9', HOSTILE);
    expect(one.headers.get('content-security-policy')).toBe(other.headers.get('content-security-policy'));
  });

  it('cannot be broken out of by a hostile URL', async () => {
    const html = await appInterstitialPage(APP, HOSTILE).text();
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('"x"');
    expect(html).not.toContain("'y'");
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(hrefOf(html, 'web')).toBe(HOSTILE);
    expect(runScript(html).navigations).toEqual([`href ${APP}`]);
  });

  it('stays small', async () => {
    const html = await appInterstitialPage(APP, FALLBACK).text();
    expect(new TextEncoder().encode(html).length).toBeLessThan(2048);
  });
});

describe('the interstitial script', () => {
  it('tries the app at once, then replaces itself with the web page after about 1.5 s', async () => {
    const page = runScript(await appInterstitialPage(APP, FALLBACK).text());
    expect(page.navigations).toEqual([`href ${APP}`]);
    expect(page.timers).toHaveLength(1);
    expect(page.timers[0]!.ms).toBeGreaterThanOrEqual(1000);
    expect(page.timers[0]!.ms).toBeLessThanOrEqual(2500);
    page.elapse();
    expect(page.navigations).toEqual([`href ${APP}`, `replace ${FALLBACK}`]);
  });

  it('stays put when the page is hidden because the app opened', async () => {
    const page = runScript(await appInterstitialPage(APP, FALLBACK).text());
    page.fire('visibilitychange', true);
    page.elapse();
    expect(page.navigations).toEqual([`href ${APP}`]);
  });

  it('stays put when the page is left', async () => {
    const page = runScript(await appInterstitialPage(APP, FALLBACK).text());
    page.fire('pagehide');
    page.elapse();
    expect(page.navigations).toEqual([`href ${APP}`]);
  });

  it('still falls back when the page becomes visible again without having been hidden', async () => {
    const page = runScript(await appInterstitialPage(APP, FALLBACK).text());
    page.fire('visibilitychange', false);
    page.elapse();
    expect(page.navigations).toEqual([`href ${APP}`, `replace ${FALLBACK}`]);
  });
});
