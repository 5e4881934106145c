import { describe, expect, it } from 'vitest';
import { androidIntentUrl, chooseRoute, type LinkRoutes, type RouteChoice } from '../../src/domain/device-routing.js';
import { classifyUserAgent, type UserAgentInfo } from '../../src/domain/user-agent.js';

const MAIN = 'https://item.taobao.com/item.htm?id=123';
const APP = 'taobao://item.taobao.com/item.htm?id=123';
const PLATFORM_URLS = {
  ios: 'https://h5.m.taobao.com/ios/item.htm?id=123',
  android: 'https://h5.m.taobao.com/android/item.htm?id=123',
  desktop: 'https://item.taobao.com/desktop/item.htm?id=123',
} as const;

type Platform = UserAgentInfo['platform'];

function visitor(platform: Platform, overrides: Partial<UserAgentInfo> = {}): UserAgentInfo {
  const deviceType = platform === 'desktop' ? 'desktop' : platform === 'other' ? 'unknown' : 'mobile';
  return { deviceType, platform, os: '', osVersion: '', browser: '', browserVersion: '', inApp: '', bot: false, ...overrides };
}

function routes(overrides: Partial<LinkRoutes> = {}): LinkRoutes {
  return { url: MAIN, appUrl: null, ios: null, android: null, desktop: null, ...overrides };
}

// The rules, restated case by case: bots get the main URL; everyone else gets their platform's page
// (or the main URL); a phone or tablet in a standalone browser is offered the app first.
function expectedChoice(platform: Platform, appUrl: string | null, withPlatformUrls: boolean, inApp: string, bot: boolean): RouteChoice {
  if (bot) return { kind: 'web', route: 'web', url: MAIN };
  const fallbackUrl = withPlatformUrls && platform !== 'other' ? PLATFORM_URLS[platform] : MAIN;
  if (appUrl !== null && inApp === '' && platform === 'android') return { kind: 'android-intent', appUrl, fallbackUrl };
  if (appUrl !== null && inApp === '' && platform === 'ios') return { kind: 'ios-interstitial', appUrl, fallbackUrl };
  return withPlatformUrls && platform !== 'other' ? { kind: 'web', route: platform, url: fallbackUrl } : { kind: 'web', route: 'web', url: MAIN };
}

describe('chooseRoute for each platform, app link, platform URL, in-app browser and bot', () => {
  const cases: Array<[string, LinkRoutes, UserAgentInfo, RouteChoice]> = [];
  for (const platform of ['ios', 'android', 'desktop', 'other'] as const) {
    for (const appUrl of [null, APP]) {
      for (const withPlatformUrls of [false, true]) {
        for (const inApp of ['', 'WeChat']) {
          for (const bot of [false, true]) {
            const name = [
              platform,
              appUrl === null ? 'no app link' : 'app link',
              withPlatformUrls ? 'platform URLs' : 'main URL only',
              inApp === '' ? 'browser' : 'in WeChat',
              bot ? 'bot' : 'person',
            ].join(', ');
            cases.push([
              name,
              routes({ appUrl, ...(withPlatformUrls ? PLATFORM_URLS : {}) }),
              visitor(platform, { inApp, bot }),
              expectedChoice(platform, appUrl, withPlatformUrls, inApp, bot),
            ]);
          }
        }
      }
    }
  }

  it('covers all 64 combinations', () => {
    expect(cases).toHaveLength(64);
  });

  it.each(cases)('%s', (_name, link, ua, expected) => {
    expect(chooseRoute(link, ua)).toEqual(expected);
  });
});

describe('chooseRoute on real visitors', () => {
  const link = routes({ appUrl: APP, ...PLATFORM_URLS });
  const route = (userAgent: string) => chooseRoute(link, classifyUserAgent(userAgent));

  it('offers the app on an iPhone in Safari, falling back to the iOS page', () => {
    expect(
      route('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1'),
    ).toEqual({ kind: 'ios-interstitial', appUrl: APP, fallbackUrl: PLATFORM_URLS.ios });
  });

  it('sends an iPhone inside WeChat straight to the iOS web page', () => {
    expect(
      route('Mozilla/5.0 (iPhone; CPU iPhone OS 16_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.31(0x18001f2e) NetType/4G Language/en'),
    ).toEqual({ kind: 'web', route: 'ios', url: PLATFORM_URLS.ios });
  });

  it('offers the app through an intent URL on Android Chrome, falling back to the Android page', () => {
    expect(
      route('Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36'),
    ).toEqual({ kind: 'android-intent', appUrl: APP, fallbackUrl: PLATFORM_URLS.android });
  });

  it('offers the app on an Android tablet too', () => {
    expect(route('Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36').kind).toBe('android-intent');
  });

  it('sends Android inside Douyin straight to the Android web page', () => {
    expect(
      route(
        'Mozilla/5.0 (Linux; Android 12; V2171A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.91 Mobile Safari/537.36 aweme_230400 JsSdk/1.0 NetType/WIFI BytedanceWebview/d8a21c6',
      ),
    ).toEqual({ kind: 'web', route: 'android', url: PLATFORM_URLS.android });
  });

  it('sends a Windows desktop to the desktop page', () => {
    expect(route('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36')).toEqual({
      kind: 'web',
      route: 'desktop',
      url: PLATFORM_URLS.desktop,
    });
  });

  it('sends a crawler posing as an Android phone to the main URL', () => {
    expect(
      route(
        'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      ),
    ).toEqual({ kind: 'web', route: 'web', url: MAIN });
  });

  it('sends a request without a user agent to the main URL', () => {
    expect(route('')).toEqual({ kind: 'web', route: 'web', url: MAIN });
  });
});

describe('androidIntentUrl', () => {
  const app = 'taobao://item.taobao.com/item.htm?id=123&hl_cid=c1&hl_sig=abc-_';
  const fallback = 'https://item.taobao.com/item.htm?id=123&hl_cid=c1&hl_sig=abc-_#desc';

  it("builds Chrome's intent syntax, keeping host, path and query and naming the scheme", () => {
    expect(androidIntentUrl(app, fallback)).toBe(
      'intent://item.taobao.com/item.htm?id=123&hl_cid=c1&hl_sig=abc-_#Intent;scheme=taobao;' +
        'S.browser_fallback_url=https%3A%2F%2Fitem.taobao.com%2Fitem.htm%3Fid%3D123%26hl_cid%3Dc1%26hl_sig%3Dabc-_%23desc;end',
    );
  });

  it('encodes the fallback so none of its characters end the intent early, and it decodes back whole', () => {
    const intent = androidIntentUrl(app, fallback);
    const extras = intent.slice(intent.indexOf('#Intent;') + '#Intent;'.length, -';end'.length).split(';');
    expect(extras).toHaveLength(2);
    const encoded = extras.find((extra) => extra.startsWith('S.browser_fallback_url='))!.slice('S.browser_fallback_url='.length);
    expect(encoded).not.toMatch(/[#;&=?/:]/);
    expect(decodeURIComponent(encoded)).toBe(fallback);
    expect(intent.indexOf('#')).toBe(intent.lastIndexOf('#'));
  });

  it('does not name an Android package', () => {
    expect(androidIntentUrl(app, fallback)).not.toContain('package=');
  });

  it('carries the scheme of each app', () => {
    expect(androidIntentUrl('tmall://detail.tmall.com/item.htm?id=9', MAIN)).toMatch(/^intent:\/\/detail\.tmall\.com\/item\.htm\?id=9#Intent;scheme=tmall;/);
  });
});
