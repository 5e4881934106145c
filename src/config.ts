import { randomBytes } from 'node:crypto';
import { type CategoryPolicy, parseCategoryPolicy } from './domain/categories.js';
import { KEY_ID_PATTERN, type SigningKey } from './domain/attribution.js';
import type { AllowedHosts } from './domain/destination.js';
import type { ClickPolicy } from './domain/click.js';
import { DEFAULT_ATTRIBUTION_WINDOW_DAYS } from './domain/conversion.js';

export interface Config {
  production: boolean;
  port: number;
  /** null: no Redis configured, the in-process store is used and nothing survives a restart. */
  redisUrl: string | null;
  /** Namespace for every Redis key, so several deployments can share one Redis. */
  redisPrefix: string;
  adminToken: string;
  /**
   * The first key signs; every key verifies until its end (`notAfterMs`, from "kid@END:secret"),
   * so keys can rotate: a retired key keeps verifying for a grace period, then no longer.
   */
  signingKeys: SigningKey[];
  /** Base of every shortUrl, without a trailing slash. */
  publicUrl: string;
  allowedHosts: AllowedHosts;
  categories: CategoryPolicy;
  /** Read the client IP from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean;
  clicks: {
    flushIntervalMs: number;
    batchSize: number;
    maxBuffered: number;
    /** Append-only file for clicks Redis cannot take right now (null: keep them in memory only). */
    spoolFile: string | null;
    /** Clicks in memory past which they move to the spool even while Redis answers (slowly). */
    spoolAfter: number;
  };
  linkCache: { ttlMs: number; maxEntries: number };
  clickPolicy: ClickPolicy;
  /** URL schemes an appUrl may use: the marketplace apps' own. */
  appSchemes: string[];
  /** Merchant API requests per key per minute; past it, 429 with Retry-After. */
  apiRateLimitPerMinute: number;
  /** How long after a click an order is still attributed to it, and a landing still verifies. */
  attributionWindowMs: number;
}

export interface LoadedConfig {
  config: Config;
  /** Secrets generated because none were given (development only): print them once. */
  generated: { adminToken?: string; signingKey?: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`hanglink cannot start, the configuration is wrong:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

const MIN_SECRET_LENGTH = 16;
const DEFAULT_ALLOWED_HOSTS = '*.taobao.com,*.tmall.com';
const HOST_PATTERN = /^(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

const DEFAULT_SPOOL_FILE = 'data/clicks.spool';

/** Only Redis can be unreachable, so only a Redis gateway spools; 'off' keeps clicks in memory only. */
function spoolFile(raw: string | undefined, usesRedis: boolean): string | null {
  if (!usesRedis || raw?.trim().toLowerCase() === 'off') return null;
  return raw === undefined || raw.trim() === '' ? DEFAULT_SPOOL_FILE : raw.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return value;
}

// An entry is "kid:secret", or "kid@END:secret" for a key that stops verifying after END (the end of
// a retired key's grace period). END goes with the kid, not the secret: a kid never contains '@' or
// ':', while a secret may contain anything but ',' (':' and '@' included), so no secret is misread.
// END is an ISO 8601 date-time with seconds and a time zone, e.g. 2026-12-31T00:00:00Z.
const KEY_END =
  /^(?<date>\d{4}-\d{2}-\d{2})T(?<time>\d{2}:\d{2}:\d{2})(?:\.(?<fraction>\d{1,3}))?(?:Z|(?<sign>[+-])(?<offsetHours>\d{2}):(?<offsetMinutes>\d{2}))$/;
const KEY_WITH_END = /^(?<id>[^@:]*)@(?<end>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})):(?<secret>.*)$/;
const KEY_FORMS = `"kid:secret", or "kid@END:secret" for a key that stops verifying after END`;
const END_FORM = 'an ISO 8601 date-time with seconds and a time zone, such as 2026-12-31T00:00:00Z';

/** The instant a key's END names, in ms since epoch, or null when it names none. */
function keyEnd(text: string): number | null {
  const parts = KEY_END.exec(text)?.groups;
  if (parts === undefined) return null;
  const { date = '', time = '', fraction = '', sign, offsetHours = '00', offsetMinutes = '00' } = parts;
  const wallClock = Date.parse(`${date}T${time}.${fraction.padEnd(3, '0')}Z`);
  // Date.parse rolls 2026-02-30 over to March, so the text has to survive a round trip.
  if (Number.isNaN(wallClock) || new Date(wallClock).toISOString().slice(0, 19) !== `${date}T${time}`) return null;
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return null;
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return sign === '-' ? wallClock + offsetMs : wallClock - offsetMs;
}

function signingKeys(raw: string, problems: string[]): SigningKey[] {
  const keys: SigningKey[] = [];
  const problemsBefore = problems.length;
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const atSign = entry.indexOf('@');
    let id: string;
    let secret: string;
    let notAfterMs: number | undefined;
    if (atSign !== -1 && (colon === -1 || atSign < colon)) {
      // "kid@END:secret". Name the entry by position and kid only, never by what follows the '@':
      // when the END is wrong, where it stops and the secret starts is unknown.
      id = entry.slice(0, atSign);
      const named = KEY_ID_PATTERN.test(id) && colon !== -1 ? `entry ${index + 1}, kid "${id}",` : `entry ${index + 1}`;
      const match = KEY_WITH_END.exec(entry)?.groups;
      const end = match === undefined ? null : keyEnd(match.end ?? '');
      if (match === undefined || end === null) {
        problems.push(`HANGLINK_SIGNING_KEYS entries are ${KEY_FORMS}, with END ${END_FORM} (${named} has no such END)`);
        return;
      }
      secret = match.secret ?? '';
      notAfterMs = end;
    } else {
      id = colon === -1 ? '' : entry.slice(0, colon);
      secret = colon === -1 ? '' : entry.slice(colon + 1);
    }
    if (!KEY_ID_PATTERN.test(id) || secret.length < MIN_SECRET_LENGTH) {
      // Name the entry by position and kid only: an entry without ':' may be a bare secret.
      const which = KEY_ID_PATTERN.test(id) ? `entry ${index + 1}, kid "${id}",` : `entry ${index + 1}`;
      problems.push(
        `HANGLINK_SIGNING_KEYS entries are ${KEY_FORMS}, with kid from [A-Za-z0-9_-] and a secret of at least ${MIN_SECRET_LENGTH} characters (${which} is not)`,
      );
      return;
    }
    if (keys.some((k) => k.id === id)) problems.push(`HANGLINK_SIGNING_KEYS names key id "${id}" twice`);
    if (index === 0 && notAfterMs !== undefined) {
      // Once that end passed, the gateway would go on signing landings that no longer verify.
      problems.push(
        `HANGLINK_SIGNING_KEYS: the first key, "${id}", signs every new landing and cannot carry an end (${new Date(notAfterMs).toISOString()}); put a current key without one first, and give the end to the key being retired`,
      );
    }
    keys.push(notAfterMs === undefined ? { id, secret } : { id, secret, notAfterMs });
  });
  // Problems found before this variable (PORT, ...) must not hide that it names no key at all.
  if (keys.length === 0 && problems.length === problemsBefore) problems.push('HANGLINK_SIGNING_KEYS has no key');
  return keys;
}

function allowedHosts(raw: string, problems: string[]): string[] {
  const hosts: string[] = [];
  const problemsBefore = problems.length;
  for (const entry of raw.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '')) {
    if (!HOST_PATTERN.test(entry)) {
      problems.push(`HANGLINK_ALLOWED_HOSTS entry "${entry}" is not a host name or "*.domain"`);
      continue;
    }
    hosts.push(entry.startsWith('*.') ? entry.slice(1) : entry);
  }
  if (hosts.length === 0 && problems.length === problemsBefore) problems.push('HANGLINK_ALLOWED_HOSTS names no host');
  return hosts;
}

function appSchemes(raw: string, problems: string[]): string[] {
  const schemes = raw.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
  const wrong = schemes.filter((scheme) => !/^[a-z][a-z0-9+.-]{0,31}$/.test(scheme) || scheme === 'http' || scheme === 'https' || scheme === 'javascript' || scheme === 'data');
  if (wrong.length > 0) problems.push(`HANGLINK_APP_SCHEMES entries must be app URL schemes, not ${wrong.join(', ')}`);
  return schemes.filter((scheme) => !wrong.includes(scheme));
}

function publicUrl(raw: string, problems: string[]): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    if (url.search !== '' || url.hash !== '') throw new Error('query');
    return url.href.replace(/\/+$/, '');
  } catch {
    problems.push(`HANGLINK_PUBLIC_URL must be an http(s) URL without query or fragment (got "${raw}")`);
    return raw;
  }
}

/**
 * Reads and checks the whole configuration once, at start. Every problem is reported at once,
 * so an operator fixes them in one go. `readCategories` returns the policy document's text.
 */
export function loadConfig(env: Env, readCategories: () => string): LoadedConfig {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const generated: LoadedConfig['generated'] = {};
  const port = integer(env, 'PORT', 8787, 0, 65535, problems);

  let adminToken = env.HANGLINK_ADMIN_TOKEN ?? '';
  if (adminToken === '') {
    if (production) problems.push('HANGLINK_ADMIN_TOKEN is required in production');
    else adminToken = generated.adminToken = randomBytes(24).toString('base64url');
  } else if (adminToken.length < MIN_SECRET_LENGTH) {
    problems.push(`HANGLINK_ADMIN_TOKEN must be at least ${MIN_SECRET_LENGTH} characters`);
  }

  let keys: SigningKey[] = [];
  const rawKeys = env.HANGLINK_SIGNING_KEYS ?? '';
  if (rawKeys === '') {
    if (production) problems.push('HANGLINK_SIGNING_KEYS is required in production ("kid:secret,kid2:secret2")');
    else {
      const secret = randomBytes(32).toString('base64url');
      keys = [{ id: 'dev', secret }];
      generated.signingKey = `dev:${secret}`;
    }
  } else {
    keys = signingKeys(rawKeys, problems);
  }

  let categories: CategoryPolicy = { open: [], whitelist: [] };
  try {
    categories = parseCategoryPolicy(JSON.parse(readCategories()));
  } catch (error) {
    problems.push(`category policy: ${(error as Error).message}`);
  }

  const trustProxy = env.HANGLINK_TRUST_PROXY ?? 'false';
  if (trustProxy !== 'true' && trustProxy !== 'false') problems.push('HANGLINK_TRUST_PROXY must be "true" or "false"');

  const redisUrl = env.REDIS_URL === undefined || env.REDIS_URL === '' ? null : env.REDIS_URL;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must start with redis:// or rediss://');

  const redisPrefix = env.HANGLINK_REDIS_PREFIX ?? 'hl:';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(redisPrefix)) problems.push('HANGLINK_REDIS_PREFIX must be 1 to 64 characters from A-Z a-z 0-9 _ . : -');

  const config: Config = {
    production,
    port,
    redisUrl,
    redisPrefix,
    adminToken,
    signingKeys: keys,
    publicUrl: publicUrl(env.HANGLINK_PUBLIC_URL ?? `http://localhost:${port}`, problems),
    allowedHosts: allowedHosts(env.HANGLINK_ALLOWED_HOSTS ?? DEFAULT_ALLOWED_HOSTS, problems),
    categories,
    trustProxy: trustProxy === 'true',
    clicks: {
      flushIntervalMs: integer(env, 'HANGLINK_CLICK_FLUSH_MS', 50, 1, 10_000, problems),
      // Building a batch holds the event loop (about 8 µs a click under load): 2,000 held taps up to
      // 20 ms; two batches in flight keep Redis fed with one script call's worth each.
      batchSize: integer(env, 'HANGLINK_CLICK_BATCH', 200, 1, 10_000, problems),
      maxBuffered: integer(env, 'HANGLINK_CLICK_BUFFER_MAX', 200_000, 1_000, 10_000_000, problems),
      spoolFile: spoolFile(env.HANGLINK_CLICK_SPOOL, redisUrl !== null),
      spoolAfter: integer(env, 'HANGLINK_CLICK_SPOOL_AFTER', 20_000, 1, 10_000_000, problems),
    },
    linkCache: {
      ttlMs: integer(env, 'HANGLINK_LINK_CACHE_TTL_MS', 1000, 0, 60_000, problems),
      maxEntries: integer(env, 'HANGLINK_LINK_CACHE_SIZE', 100_000, 1, 10_000_000, problems),
    },
    clickPolicy: {
      repeatWindowMs: integer(env, 'HANGLINK_REPEAT_WINDOW_MINUTES', 30, 1, 7 * 24 * 60, problems) * 60_000,
      floodLimitPerMinute: integer(env, 'HANGLINK_FLOOD_LIMIT', 20, 1, 100_000, problems),
    },
    appSchemes: appSchemes(env.HANGLINK_APP_SCHEMES ?? 'taobao,tmall', problems),
    apiRateLimitPerMinute: integer(env, 'HANGLINK_API_RATE_LIMIT', 600, 1, 1_000_000, problems),
    attributionWindowMs: integer(env, 'HANGLINK_ATTRIBUTION_WINDOW_DAYS', DEFAULT_ATTRIBUTION_WINDOW_DAYS, 1, 90, problems) * 24 * 3_600_000,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, generated };
}
