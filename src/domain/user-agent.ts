import { createIsbotFromList, list as botPatterns } from 'isbot';
// ua-parser-js 1.x ships no type declarations; `parse` below is the typed boundary around it.
import { UAParser } from 'ua-parser-js';

/** What the redirect and the click record need to know about a visitor's software. */
export interface UserAgentInfo {
  deviceType: 'mobile' | 'tablet' | 'desktop' | 'unknown';
  platform: 'ios' | 'android' | 'desktop' | 'other';
  os: string;
  osVersion: string;
  browser: string;
  browserVersion: string;
  /** The app whose embedded web view made the request, '' in a standalone browser. */
  inApp: string;
  bot: boolean;
}

interface Parsed {
  browser: { name?: string; version?: string };
  os: { name?: string; version?: string };
  device: { type?: string };
}

const parse = (userAgent: string): Parsed => new UAParser(userAgent).getResult() as Parsed;

// Past this a user agent carries nothing a parser uses, and a bound keeps every regex cheap.
const MAX_PARSED_LENGTH = 512;
const MAX_FIELD_LENGTH = 64;

// isbot treats any '|' as a bot signal, but Alipay's web view sends "ws:390|780|3.0" on every request.
const isListedBot = createIsbotFromList(botPatterns.filter((pattern) => pattern !== '\\|'));
// Alibaba's apps (Taobao, Tmall) send "TTID/227200@taobao_android_10.25.10", which isbot takes for a
// bot's contact address (its '@name.' pattern): the store's own shoppers would count as bots.
const ALIBABA_APP_TTID = /\bTTID\/\S*/g;
const isBot = (userAgent: string) => isListedBot(userAgent.replace(ALIBABA_APP_TTID, ''));

// First match wins: WeChat and Douyin user agents also carry generic tokens matched further down.
const IN_APP: ReadonlyArray<readonly [RegExp, string]> = [
  [/MicroMessenger\//, 'WeChat'],
  [/xhsdiscover|xiaohongshu/i, 'Xiaohongshu'],
  [/weibo/i, 'Weibo'],
  [/\bDingTalk\//, 'DingTalk'],
  [/AlipayClient\//, 'Alipay'],
  [/AliApp\(TB\//, 'Taobao'],
  [/AliApp\(TM\//, 'Tmall'],
  [/\baweme/, 'Douyin'],
  [/musical_ly|\btrill_/, 'TikTok'],
  [/BytedanceWebview\//, 'ByteDance'],
  // "QQ/" alone: the QQ Browser app sends "MQQBrowser/" and is a real browser.
  [/(?:^|[\s;(])QQ\/\d/, 'QQ'],
  [/FBAN\/|FBAV\/|FB_IAB\//, 'Facebook'],
  [/\bInstagram\b/, 'Instagram'],
  [/\bLine\/\d/, 'Line'],
  // Any other app's embedded view: Android marks it "; wv)", and only Safari and the
  // standalone iOS browsers built on it add a "Safari/" token.
  [/; wv\)|\((?:iPhone|iPad|iPod);(?!.*Safari\/)/, 'WebView'],
];

const DESKTOP_OS =
  /^(?:Windows|Mac OS|Chromium OS|Linux|[KXL]?ubuntu|Debian|Fedora|Mint|Arch|Gentoo|(?:open)?SUSE|Red ?Hat|CentOS|Manjaro|Deepin|elementary OS|Slackware|(?:Free|Open|Net)BSD)$/i;

const NO_USER_AGENT: UserAgentInfo = Object.freeze({
  deviceType: 'unknown',
  platform: 'other',
  os: '',
  osVersion: '',
  browser: '',
  browserVersion: '',
  inApp: '',
  // Every real browser sends a user agent; only scripts and fetchers leave it out.
  bot: true,
});

// Parsed values are slices of an attacker-controlled header: bounded and printable before they are stored.
function field(value: string | undefined): string {
  if (value === undefined) return '';
  return value.slice(0, MAX_FIELD_LENGTH).replace(/[^\x20-\x7e]/g, '?');
}

function deviceTypeOf(parsed: Parsed): UserAgentInfo['deviceType'] {
  const type = parsed.device.type;
  if (type === 'mobile' || type === 'tablet') return type;
  return type === undefined && DESKTOP_OS.test(parsed.os.name ?? '') ? 'desktop' : 'unknown';
}

function platformOf(osName: string | undefined, deviceType: UserAgentInfo['deviceType']): UserAgentInfo['platform'] {
  if (osName === 'iOS') return 'ios';
  // Not HarmonyOS, though it runs Android apps: whether its browsers honour intent URLs is unknown,
  // and 'other' sends its visitors to the web page, which always works.
  if (osName === 'Android') return 'android';
  return deviceType === 'desktop' ? 'desktop' : 'other';
}

const bounded = (userAgent: string) => (userAgent.length > MAX_PARSED_LENGTH ? userAgent.slice(0, MAX_PARSED_LENGTH) : userAgent);

function classifyBounded(userAgent: string): UserAgentInfo {
  if (userAgent.trim() === '') return NO_USER_AGENT;
  const parsed = parse(userAgent);
  const deviceType = deviceTypeOf(parsed);
  return {
    deviceType,
    platform: platformOf(parsed.os.name, deviceType),
    os: field(parsed.os.name),
    osVersion: field(parsed.os.version),
    browser: field(parsed.browser.name),
    browserVersion: field(parsed.browser.version),
    inApp: IN_APP.find(([pattern]) => pattern.test(userAgent))?.[1] ?? '',
    bot: isBot(userAgent),
  };
}

/** Never throws: any header value, however long or malformed, gets an answer. */
export function classifyUserAgent(userAgent: string): UserAgentInfo {
  return classifyBounded(bounded(userAgent));
}

/**
 * Parsing costs tens of microseconds and a campaign's visitors share a handful of user agents,
 * so each distinct one is parsed once. Keys are the bounded strings, so memory stays bounded too;
 * when full, the entry added first goes (a hit costs no reordering, unlike LRU).
 */
export class UserAgentCache {
  readonly #entries = new Map<string, UserAgentInfo>();

  constructor(readonly maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer.');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The same frozen object for the same user agent while it stays cached: callers must not change it. */
  classify(userAgent: string): UserAgentInfo {
    const key = bounded(userAgent);
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached;
    const info = Object.freeze(classifyBounded(key));
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, info);
    return info;
  }
}
