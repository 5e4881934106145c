import { attributionSeparator, namesAttributionParameter } from './attribution.js';
import { invalid } from './errors.js';

/**
 * A destination that passed the allow-list, split so the redirect can append attribution
 * parameters with string work alone: `base` is the URL without its fragment, `fragment`
 * starts with '#' or is empty, and `querySeparator` is '?' or '&'.
 */
export interface Destination {
  url: string;
  base: string;
  fragment: string;
  querySeparator: '?' | '&';
}

/** A host pattern is either an exact host or, with a leading dot, a domain and all its subdomains. */
export type AllowedHosts = readonly string[];

export const DEFAULT_ALLOWED_HOSTS: AllowedHosts = ['.taobao.com', '.tmall.com'];

const MAX_URL_LENGTH = 2048;
// Characters a browser, proxy or store may read differently from the WHATWG parser: refuse them
// rather than trust any one normalisation. Percent signs are refused only in the authority,
// where no legitimate item URL has them and where encoded '@', '/' and '.' tricks live.
const AMBIGUOUS_ANYWHERE = /[\\\s\u0000-\u001f\u007f-\u009f]/;
const AUTHORITY = /^[a-z][a-z0-9+.-]*:\/*([^/?#]*)/i;

export function hostAllowed(host: string, allowed: AllowedHosts): boolean {
  return allowed.some((pattern) =>
    pattern.startsWith('.')
      ? host === pattern.slice(1) || host.endsWith(pattern)
      : host === pattern,
  );
}

/**
 * Parses and vets a destination. Only https URLs on an allowed host, on the default port,
 * without user info, survive; the stored form is the parser's normalised href so that what
 * was checked is exactly what the shopper is sent to.
 */
export function parseDestination(raw: unknown, allowed: AllowedHosts, field = 'url'): Destination {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw invalid('invalid-destination', `${field} must be a non-empty string.`, { field });
  }
  if (raw.length > MAX_URL_LENGTH) {
    throw invalid('invalid-destination', `${field} is longer than ${MAX_URL_LENGTH} characters.`, { field });
  }
  if (AMBIGUOUS_ANYWHERE.test(raw) || AUTHORITY.exec(raw)?.[1]?.includes('%')) {
    throw invalid(
      'invalid-destination',
      `${field} contains a backslash, whitespace, a control character or a percent-encoded host.`,
      { field },
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('invalid-destination', `${field} is not an absolute URL.`, { field });
  }
  if (url.protocol !== 'https:') {
    throw invalid('invalid-destination', `${field} must use https (got ${url.protocol}).`, { field });
  }
  if (url.username !== '' || url.password !== '' || /^[^#?/]*\/\/[^/?#]*@/.test(raw)) {
    throw invalid('invalid-destination', `${field} must not carry user info.`, { field });
  }
  if (url.port !== '') {
    throw invalid('invalid-destination', `${field} must not name a port.`, { field });
  }
  // WHATWG keeps a trailing dot ("taobao.com." is another origin) and turns IDNs into punycode,
  // so the comparison below sees the host a browser will connect to.
  const host = url.hostname;
  if (!hostAllowed(host, allowed)) {
    throw invalid('destination-not-allowed', `${field} host "${host}" is not on the allowed hosts.`, {
      field,
      host,
    });
  }
  if (namesAttributionParameter(url.searchParams)) {
    throw invalid('invalid-destination', `${field} must not carry hl_ parameters: the gateway appends its own, signed.`, { field });
  }
  const href = url.href;
  const hashAt = href.indexOf('#');
  const base = hashAt === -1 ? href : href.slice(0, hashAt);
  return {
    url: href,
    base,
    fragment: hashAt === -1 ? '' : href.slice(hashAt),
    querySeparator: attributionSeparator(base),
  };
}

/** Re-derives the string-work split of an already vetted URL (a link read back from storage). */
export function splitVettedUrl(url: string): Destination {
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  return {
    url,
    base,
    fragment: hashAt === -1 ? '' : url.slice(hashAt),
    querySeparator: attributionSeparator(base),
  };
}
