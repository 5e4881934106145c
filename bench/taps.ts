// What the load generator sends: per connection, its own round of taps over every link, starting
// at its own offset, from many visitors (X-Forwarded-For, read by the gateway behind a trusted
// proxy) with a realistic mix of browsers, in-app web views and a few crawlers.
import type { Request } from 'autocannon';

/** Share of taps per user agent (out of 32): phones in browsers and in apps, a desktop, a crawler. */
const USER_AGENTS: readonly (readonly [weight: number, userAgent: string])[] = [
  [9, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1'],
  [6, 'Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36'],
  [6, 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.31(0x18001f2e) NetType/4G Language/en'],
  [5, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 xhsdiscover/8.40 NetType/WiFi'],
  [3, 'Mozilla/5.0 (Linux; Android 12; NOH-AN00 Build/HUAWEINOH-AN00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/99.0.4844.88 Mobile Safari/537.36 XiaoHongShu/7.82.0'],
  [2, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'],
  [1, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
];
const AGENT_OF_SLOT = USER_AGENTS.flatMap(([weight, userAgent]) => Array<string>(weight).fill(userAgent));

/** Distinct /24 networks per connection: each visitor (network and browser) taps a few links a round. */
const NETWORKS_PER_CONNECTION = 200;

export const TAP_MIX =
  `taps from ${USER_AGENTS.length} user agents (phones in browsers and in WeChat/Xiaohongshu, a desktop, ` +
  `${((100 * (USER_AGENTS.at(-1)?.[0] ?? 0)) / AGENT_OF_SLOT.length).toFixed(0)}% Googlebot) and ${NETWORKS_PER_CONNECTION} X-Forwarded-For networks per connection ` +
  '(the gateway trusts the proxy), so the classification path sees unique, repeat and bot taps; each connection goes round every link from its own offset';

/**
 * Connection `connection` of `connections`: a round over every code starting at its own offset,
 * so the links are tapped evenly rather than all connections hitting the same few at once.
 */
export function tapsFor(codes: readonly string[], connection: number, connections: number): Request[] {
  const offset = Math.floor((connection * codes.length) / connections);
  return codes.map((_, i) => {
    const code = codes[(offset + i) % codes.length] as string;
    return {
      method: 'GET',
      path: `/${code}`,
      headers: {
        'user-agent': AGENT_OF_SLOT[(connection * 7 + i) % AGENT_OF_SLOT.length] as string,
        'accept-language': 'zh-CN,zh;q=0.9',
        'x-forwarded-for': `10.${connection % 256}.${i % NETWORKS_PER_CONNECTION}.${1 + (i % 7)}`,
      },
    };
  });
}
