import { timingSafeEqual } from 'node:crypto';
import { hmacSha256Base64url } from './hmac-sha256.js';

/**
 * Signed attribution parameters, appended to the destination in this fixed order:
 *   hl_cid  click id        hl_lid  link code      hl_nid  note id
 *   hl_ts   unix seconds    hl_kid  signing key id hl_sig  signature
 *
 * canonical = "hanglink-v1" LF destination LF hl_cid LF hl_lid LF hl_nid LF hl_ts LF hl_kid
 * hl_sig    = base64url(HMAC-SHA256(secret of hl_kid, canonical)), without padding
 *
 * `destination` is the landing URL without its fragment, without the hl_ parameters and without
 * the '?' or '&' that introduced them: exactly the link's destination. That separator is not signed,
 * so it is fixed instead (attributionSeparator). The README has a worked example.
 */
export const SCHEME_VERSION = 'hanglink-v1';

export interface SigningKey {
  id: string;
  secret: string;
  /** After this instant (ms since epoch) the key no longer verifies: the end of its rotation grace period. */
  notAfterMs?: number | undefined;
}

export interface AttributionFields {
  clickId: string;
  linkCode: string;
  noteId: string;
  timestamp: number;
}

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** What joins the parameters to a destination (without its fragment): '&' after a query, else '?'. */
export function attributionSeparator(destination: string): '?' | '&' {
  return destination.includes('?') ? '&' : '?';
}

/**
 * Whether a query already names a parameter of the attribution's own prefix (in any case, however
 * encoded). A destination holding one would land with two sets: the signature covers the last, but a
 * store reading the first of each name would take the planted one.
 */
export function namesAttributionParameter(query: URLSearchParams): boolean {
  for (const name of query.keys()) if (name.slice(0, 3).toLowerCase() === 'hl_') return true;
  return false;
}

export function canonicalString(destination: string, fields: AttributionFields, keyId: string): string {
  return `${SCHEME_VERSION}\n${destination}\n${fields.clickId}\n${fields.linkCode}\n${fields.noteId}\n${fields.timestamp}\n${keyId}`;
}

export function signCanonical(secret: string, canonical: string): string {
  return hmacSha256Base64url(secret, canonical);
}

/**
 * The query suffix (without the leading '?' or '&') that attributes a tap. Field values come
 * from URL-safe alphabets (ids are checked at mint), so no encoding is needed.
 */
export function attributionQuery(destinationBase: string, fields: AttributionFields, key: SigningKey): string {
  const sig = signCanonical(key.secret, canonicalString(destinationBase, fields, key.id));
  return `hl_cid=${fields.clickId}&hl_lid=${fields.linkCode}&hl_nid=${fields.noteId}&hl_ts=${fields.timestamp}&hl_kid=${key.id}&hl_sig=${sig}`;
}

/**
 * Why a landing does not verify. 'unknown-key': hl_kid names no key given, or a key whose
 * `notAfterMs` has passed (a retired key after its grace period), whatever the landing's own age.
 */
export type VerifyFailure = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'from-the-future';

export type VerifyResult =
  | ({ valid: true; destination: string; keyId: string } & AttributionFields)
  | { valid: false; reason: VerifyFailure };

export interface VerifyOptions {
  /** Current time in ms since epoch; defaults to Date.now(). */
  nowMs?: number;
  /** How old a landing may be; default 7 days, the attribution window. */
  maxAgeSeconds?: number;
  /** Tolerated clock difference for a timestamp ahead of now; default 300 seconds. */
  maxClockSkewSeconds?: number;
}

// hl_ts has no leading zeros: the canonical string holds the number, so "017…" would verify as "17…".
const SUFFIX =
  /[?&]hl_cid=([A-Za-z0-9_-]+)&hl_lid=([A-Za-z0-9_-]+)&hl_nid=([A-Za-z0-9._:-]+)&hl_ts=(0|[1-9]\d{0,11})&hl_kid=([A-Za-z0-9_-]{1,32})&hl_sig=([A-Za-z0-9_-]{43})$/;
const DEFAULT_MAX_AGE_SECONDS = 7 * 24 * 3600;
const DEFAULT_SKEW_SECONDS = 300;

/**
 * Checks a landing URL as the store received it. Any change to the destination or to an hl_
 * parameter, an unknown or retired key id, or a timestamp outside the window makes it invalid.
 */
export function verifyAttribution(
  landingUrl: string,
  keys: readonly SigningKey[],
  options: VerifyOptions = {},
): VerifyResult {
  const hashAt = landingUrl.indexOf('#');
  const url = hashAt === -1 ? landingUrl : landingUrl.slice(0, hashAt);
  const match = SUFFIX.exec(url);
  if (match === null) return { valid: false, reason: 'malformed' };
  const [, clickId, linkCode, noteId, ts, keyId, sig] = match as unknown as [string, string, string, string, string, string, string];
  const nowMs = options.nowMs ?? Date.now();
  const key = keys.find((k) => k.id === keyId);
  if (key === undefined || (key.notAfterMs !== undefined && nowMs > key.notAfterMs)) {
    return { valid: false, reason: 'unknown-key' };
  }
  const destination = url.slice(0, match.index);
  // Any other separator makes a URL the gateway never issued, one that parses differently (the
  // parameters inside another's value, or in the path), though the canonical string is the same.
  if (url[match.index] !== attributionSeparator(destination)) return { valid: false, reason: 'bad-signature' };
  const fields: AttributionFields = { clickId, linkCode, noteId, timestamp: Number(ts) };
  const expected = Buffer.from(signCanonical(key.secret, canonicalString(destination, fields, keyId)));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { valid: false, reason: 'bad-signature' };
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  if (fields.timestamp > nowSeconds + (options.maxClockSkewSeconds ?? DEFAULT_SKEW_SECONDS)) {
    return { valid: false, reason: 'from-the-future' };
  }
  if (nowSeconds - fields.timestamp > (options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS)) {
    return { valid: false, reason: 'expired' };
  }
  return { valid: true, destination, keyId, ...fields };
}
