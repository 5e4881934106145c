import { describe, expect, it } from 'vitest';
import { classifyUserAgent, UserAgentCache, type UserAgentInfo } from '../../src/domain/user-agent.js';

type Expected = Pick<UserAgentInfo, 'deviceType' | 'platform' | 'os' | 'inApp' | 'bot'> & { browser?: string };

// Real user agents, as the browsers and apps send them.
const PEOPLE: ReadonlyArray<[string, string, Expected]> = [
  [
    'iPhone Safari',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', browser: 'Mobile Safari', inApp: '', bot: false },
  ],
  [
    'iPhone Chrome',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', browser: 'Chrome', inApp: '', bot: false },
  ],
  [
    'iPhone in WeChat',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.31(0x18001f2e) NetType/4G Language/en',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', browser: 'WeChat', inApp: 'WeChat', bot: false },
  ],
  [
    'iPhone in Xiaohongshu',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 xhsdiscover/8.40 NetType/WiFi',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'Xiaohongshu', bot: false },
  ],
  [
    'iPhone in Weibo',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Weibo (iPhone10,3__weibo__10.2.0__iphone__os14.0)',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'Weibo', bot: false },
  ],
  [
    'iPhone in Douyin',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 aweme_29.3.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/zh',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'Douyin', bot: false },
  ],
  [
    'iPhone in QQ',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 QQ/8.9.63.610 V1_IPH_SQ_8.9.63_1_APP_A Pixel/1170 MiniAppEnable SimpleUISwitch/0 StudyMode/0 CurrentMode/0 CurrentFontScale/1.000000 QQTheme/1000 AppId/537168313 Core/WKWebView Device/Apple(iPhone 13) NetType/WIFI QBWebViewType/1 WKType/1',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'QQ', bot: false },
  ],
  [
    // isbot alone calls this a bot: it reads the '|' in "ws:390|780|3.0" as a bot signal.
    'iPhone in Alipay',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Ariver/1.1.0 AliApp(AP/10.5.20.6000) Nebula WK RVKType(1) AlipayDefined(nt:WIFI,ws:390|780|3.0) AlipayClient/10.5.20.6000 Language/zh-Hans Region/CN NebulaX/1.0.0',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'Alipay', bot: false },
  ],
  [
    'iPhone in DingTalk',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.0.10) com.laiwang.DingTalk/27538571 Channel/201200 language/zh-Hans-CN UT4Aplus/0.0.6 WK',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'DingTalk', bot: false },
  ],
  [
    'iPhone in Facebook',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'Facebook', bot: false },
  ],
  [
    'iPhone in Instagram',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21F90 Instagram 335.0.0.34.95 (iPhone16,1; iOS 17_5_1; en_US; en; scale=3.00; 1179x2556; 612452745)',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'Instagram', bot: false },
  ],
  [
    'iPhone in Line',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/14.13.0',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'Line', bot: false },
  ],
  [
    'iPhone in TikTok',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_34.0.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'TikTok', bot: false },
  ],
  [
    'iPhone in some other app',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
    { deviceType: 'mobile', platform: 'ios', os: 'iOS', inApp: 'WebView', bot: false },
  ],
  [
    'Android Chrome',
    'Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36',
    { deviceType: 'mobile', platform: 'android', os: 'Android', browser: 'Chrome', inApp: '', bot: false },
  ],
  [
    'Android Chrome, reduced user agent',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    { deviceType: 'mobile', platform: 'android', os: 'Android', browser: 'Chrome', inApp: '', bot: false },
  ],
  [
    'Android MIUI Browser',
    'Mozilla/5.0 (Linux; U; Android 13; zh-cn; 22081212C Build/TKQ1.220829.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.118 Mobile Safari/537.36 XiaoMi/MiuiBrowser/17.7.20',
    { deviceType: 'mobile', platform: 'android', os: 'Android', browser: 'MIUI Browser', inApp: '', bot: false },
  ],
  [
    'Android in WeChat',
    'Mozilla/5.0 (Linux; Android 13; 22081212C Build/TKQ1.220829.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/6973 MicroMessenger/8.0.34.2340(0x2800225B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64',
    { deviceType: 'mobile', platform: 'android', os: 'Android', browser: 'WeChat', inApp: 'WeChat', bot: false },
  ],
  [
    'Android in Douyin',
    'Mozilla/5.0 (Linux; Android 12; V2171A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.91 Mobile Safari/537.36 aweme_230400 JsSdk/1.0 NetType/WIFI Channel/vivo_1128_64 aweme_version/23.4.0 app_version/23.4.0 ByteLocale/zh-CN Region/CN AppSkin/white AppTheme/light BytedanceWebview/d8a21c6 WebView/075113004008',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'Douyin', bot: false },
  ],
  [
    'Android in TikTok',
    'Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/125.0.0.0 Mobile Safari/537.36 trill_340002 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly app_version/34.0.2 ByteLocale/en ByteFullLocale/en Region/US BytedanceWebview/d8a21c6',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'TikTok', bot: false },
  ],
  [
    'Android in Xiaohongshu',
    'Mozilla/5.0 (Linux; Android 12; NOH-AN00 Build/HUAWEINOH-AN00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/99.0.4844.88 Mobile Safari/537.36 XiaoHongShu/7.82.0',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'Xiaohongshu', bot: false },
  ],
  [
    'Android in Weibo',
    'Mozilla/5.0 (Linux; Android 10; VOG-AL10 Build/HUAWEIVOG-AL10; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/88.0.4324.93 Mobile Safari/537.36 Weibo (HUAWEI-VOG-AL10__weibo__11.6.3__android__android10)',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'Weibo', bot: false },
  ],
  [
    'Android in Alipay',
    'Mozilla/5.0 (Linux; U; Android 12; zh-CN; PEDM00 Build/SKQ1.210216.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile Safari/537.36 AlipayChannelId/5136 UCBS/3.22.2.59_230817100127 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:360|0|3.0) AliApp(AP/10.5.26.8000) AlipayClient/10.5.26.8000 Language/zh-Hans useStatusBar/true isConcaveScreen/true Region/CNAriver/1.0.0 DTN/2.0',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'Alipay', bot: false },
  ],
  [
    // isbot alone calls these bots: it reads the "@taobao_android_10." of their TTID as a bot's contact address.
    'Android in Taobao',
    'Mozilla/5.0 (Linux; U; Android 13; zh-CN; 22081212C Build/TKQ1.220829.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UWS/3.22.2.62 Mobile Safari/537.36 AliApp(TB/10.25.10) UCBS/2.11.1.1 TTID/227200@taobao_android_10.25.10 WindVane/8.5.0 1080X2400',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'Taobao', bot: false },
  ],
  [
    'Android in Tmall',
    'Mozilla/5.0 (Linux; U; Android 12; zh-CN; V2049A Build/SP1A.210812.003) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UWS/3.22.2.62 Mobile Safari/537.36 AliApp(TM/14.2.0) UCBS/2.11.1.1 TTID/600000@tmall_android_14.2.0 WindVane/8.5.0 1080X2400',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'Tmall', bot: false },
  ],
  [
    'Android in Facebook',
    'Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.5845.163 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/431.0.0.35.108;]',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'Facebook', bot: false },
  ],
  [
    'Android in some other app',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240605.024; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.71 Mobile Safari/537.36',
    { deviceType: 'mobile', platform: 'android', os: 'Android', inApp: 'WebView', bot: false },
  ],
  [
    'Huawei phone on HarmonyOS',
    'Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00; HMSCore 6.11.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.1.303 Mobile Safari/537.36',
    { deviceType: 'mobile', platform: 'other', os: 'HarmonyOS', browser: 'Huawei Browser', inApp: '', bot: false },
  ],
  [
    'iPad Safari',
    'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
    { deviceType: 'tablet', platform: 'ios', os: 'iOS', browser: 'Mobile Safari', inApp: '', bot: false },
  ],
  [
    'Android tablet',
    'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36',
    { deviceType: 'tablet', platform: 'android', os: 'Android', browser: 'Chrome', inApp: '', bot: false },
  ],
  [
    'Android tablet, reduced user agent',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    { deviceType: 'tablet', platform: 'android', os: 'Android', browser: 'Chrome', inApp: '', bot: false },
  ],
  [
    'Windows Chrome',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    { deviceType: 'desktop', platform: 'desktop', os: 'Windows', browser: 'Chrome', inApp: '', bot: false },
  ],
  [
    'Windows WeChat',
    'Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13) XWEB/8555 Flue',
    { deviceType: 'desktop', platform: 'desktop', os: 'Windows', browser: 'WeChat', inApp: 'WeChat', bot: false },
  ],
  [
    // iPadOS Safari sends exactly this by default too, so such iPads count as desktops.
    'macOS Safari',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    { deviceType: 'desktop', platform: 'desktop', os: 'Mac OS', browser: 'Safari', inApp: '', bot: false },
  ],
  [
    'Linux Firefox',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    { deviceType: 'desktop', platform: 'desktop', os: 'Linux', browser: 'Firefox', inApp: '', bot: false },
  ],
  [
    'Ubuntu Firefox',
    'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0',
    { deviceType: 'desktop', platform: 'desktop', os: 'Ubuntu', browser: 'Firefox', inApp: '', bot: false },
  ],
  [
    'ChromeOS',
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    { deviceType: 'desktop', platform: 'desktop', os: 'Chromium OS', browser: 'Chrome', inApp: '', bot: false },
  ],
];

// Crawlers and link-preview fetchers; several pose as a phone or a Mac.
const BOTS: ReadonlyArray<[string, string]> = [
  ['Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
  [
    'Googlebot smartphone',
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ],
  ['bingbot', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'],
  // Only an Alibaba app's TTID token is let off isbot's contact-address rule.
  ['a fetcher known only by its contact address', 'PriceWatch/2.0 (ops@pricewatch.example.com)'],
  ['Baiduspider', 'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)'],
  ['Sogou', 'Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)'],
  ['360Spider', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.102 Safari/537.36; 360Spider'],
  [
    'Bytespider',
    'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
  ],
  ['YandexBot', 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)'],
  ['facebookexternalhit', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
  [
    'iMessage link preview',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0',
  ],
  ['Twitterbot', 'Twitterbot/1.0'],
  ['Slackbot-LinkExpanding', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'],
  ['WhatsApp', 'WhatsApp/2.23.20.0'],
  ['TelegramBot', 'TelegramBot (like TwitterBot)'],
  ['Discordbot', 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)'],
  ['LinkedInBot', 'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)'],
  ['Skype preview', 'Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com'],
  [
    'Applebot',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
  ],
  ['curl', 'curl/8.4.0'],
  ['python-requests', 'python-requests/2.31.0'],
];

const userAgentOf = (name: string): string => {
  const found = PEOPLE.find(([n]) => n === name) ?? BOTS.find(([n]) => n === name);
  if (found === undefined) throw new Error(`no user agent named ${name}`);
  return found[1];
};

const PRINTABLE_AND_BOUNDED = /^[\x20-\x7e]{0,64}$/;

function expectWellFormed(info: UserAgentInfo): void {
  for (const value of [info.os, info.osVersion, info.browser, info.browserVersion, info.inApp]) {
    expect(value).toMatch(PRINTABLE_AND_BOUNDED);
  }
  expect(['mobile', 'tablet', 'desktop', 'unknown']).toContain(info.deviceType);
  expect(['ios', 'android', 'desktop', 'other']).toContain(info.platform);
  expect(typeof info.bot).toBe('boolean');
}

describe('classifyUserAgent on people', () => {
  it.each(PEOPLE)('%s', (_name, userAgent, expected) => {
    const info = classifyUserAgent(userAgent);
    const { browser, ...rest } = expected;
    expect(info).toMatchObject(rest);
    if (browser !== undefined) expect(info.browser).toBe(browser);
    expectWellFormed(info);
  });

  it('reads the OS version the way people write it', () => {
    const info = classifyUserAgent(userAgentOf('iPhone Safari'));
    expect(info.osVersion).toBe('17.4.1');
    expect(info.browserVersion).toBe('17.4.1');
    expect(classifyUserAgent(userAgentOf('Android in WeChat')).osVersion).toBe('13');
  });
});

describe('classifyUserAgent on bots and link-preview fetchers', () => {
  it.each(BOTS)('%s is flagged as a bot', (_name, userAgent) => {
    const info = classifyUserAgent(userAgent);
    expect(info.bot).toBe(true);
    expectWellFormed(info);
  });

  it('still reads the device a bot claims, for the record', () => {
    const smartphoneBot = classifyUserAgent(userAgentOf('Googlebot smartphone'));
    expect(smartphoneBot).toMatchObject({ bot: true, platform: 'android', deviceType: 'mobile' });
  });
});

describe('classifyUserAgent on what is not a user agent', () => {
  it('counts an empty or blank user agent as a bot: no browser sends none', () => {
    for (const blank of ['', '   ', '\t']) {
      expect(classifyUserAgent(blank)).toEqual({
        deviceType: 'unknown',
        platform: 'other',
        os: '',
        osVersion: '',
        browser: '',
        browserVersion: '',
        inApp: '',
        bot: true,
      });
    }
  });

  it('answers a 10 KB user agent without throwing, reading only its start', () => {
    const iphone = userAgentOf('iPhone Safari');
    const huge = `${iphone} ${'A'.repeat(10 * 1024)}`;
    const info = classifyUserAgent(huge);
    expect(info).toMatchObject({ platform: 'ios', deviceType: 'mobile', bot: false });
    expectWellFormed(info);
    // A token past the bound is not seen.
    expect(classifyUserAgent(`${'x'.repeat(600)} MicroMessenger/8.0.31`).inApp).toBe('');
  });

  it('answers binary garbage, lone surrogates and control characters with bounded printable fields', () => {
    const garbage = [
      String.fromCharCode(...Array.from({ length: 4096 }, (_, i) => (i * 7919) % 65536)),
      '\ud800\udfff\udc00 Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) \ud800',
      'Mozilla/5.0 (Windows NT 10.0\u0000\u001b[31m) Chrome/1\u00ff\u2028.0 Safari/537.36',
      `Mozilla/5.0 (Linux; Android ${'9'.repeat(300)}; K) Chrome/${'1.'.repeat(200)} Mobile Safari/537.36`,
      '\u0000'.repeat(10_000),
    ];
    for (const userAgent of garbage) {
      expectWellFormed(classifyUserAgent(userAgent));
    }
  });
});

describe('UserAgentCache', () => {
  const iphone = userAgentOf('iPhone Safari');
  const android = userAgentOf('Android Chrome');

  it('returns the same object for a repeated user agent, equal to a fresh classification', () => {
    const cache = new UserAgentCache();
    const first = cache.classify(iphone);
    expect(cache.classify(iphone)).toBe(first);
    expect(first).toEqual(classifyUserAgent(iphone));
    expect(cache.classify(android)).not.toBe(first);
  });

  it('hands out frozen answers, so one caller cannot change what the next one reads', () => {
    const info = new UserAgentCache().classify(iphone);
    expect(Object.isFrozen(info)).toBe(true);
  });

  it('stays bounded, evicting the entry added first', () => {
    const cache = new UserAgentCache(3);
    const a = cache.classify(`${iphone} a`);
    const b = cache.classify(`${iphone} b`);
    cache.classify(`${iphone} c`);
    expect(cache.classify(`${iphone} b`)).toBe(b);
    cache.classify(`${iphone} d`);
    expect(cache.size).toBe(3);
    expect(cache.classify(`${iphone} b`)).toBe(b);
    expect(cache.classify(`${iphone} a`)).not.toBe(a);
    for (let i = 0; i < 1000; i++) cache.classify(`${iphone} ${i}`);
    expect(cache.size).toBe(3);
  });

  it('keys on the bounded user agent, so 10 KB strings do not grow memory past the bound', () => {
    const cache = new UserAgentCache(10);
    const prefix = `${iphone} ${'A'.repeat(1000)}`;
    const first = cache.classify(`${prefix} one`);
    expect(cache.classify(`${prefix} two`)).toBe(first);
    expect(cache.size).toBe(1);
  });

  it('refuses a size that cannot hold anything', () => {
    expect(() => new UserAgentCache(0)).toThrow(RangeError);
  });
});
