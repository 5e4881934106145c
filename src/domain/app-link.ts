import { namesAttributionParameter } from './attribution.js';
import { type AllowedHosts, hostAllowed } from './destination.js';
import { invalid } from './errors.js';

/** The marketplace apps open their item pages from these schemes, followed by the web page's host and path. */
export const DEFAULT_APP_SCHEMES: readonly string[] = ['taobao', 'tmall'];

const MAX_APP_URL_LENGTH = 2048;
const AMBIGUOUS_ANYWHERE = /[\\\s\u0000-\u001f\u007f-\u009f]/;
// No fragment: the Android intent URL built from an app link uses '#' for its own parameters.
const SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)(\?[^#]*)?$/;
const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// RFC 3986 path and query characters, with every '%' starting a well-formed escape.
const PATH_AND_QUERY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;
// An app link is navigated to from the gateway's own pages: a scheme that runs script or reaches into
// the browser or other apps is refused even if an operator lists it.
const NEVER_APP_SCHEMES = new Set(['javascript', 'vbscript', 'data', 'blob', 'file', 'intent']);

/**
 * Vets an app deep link: `<scheme>://<host>/<path>?<query>` with a configured scheme and an allowed
 * host, the same host rules as a web destination. Returns it with scheme and host lowercased.
 */
export function parseAppUrl(
  raw: unknown,
  allowedSchemes: readonly string[],
  allowedHosts: AllowedHosts,
  field = 'appUrl',
): string {
  const refuse = (detail: string) => invalid('invalid-app-url', `${field} ${detail}`, { field });
  if (typeof raw !== 'string' || raw.length === 0) throw refuse('must be a non-empty string.');
  if (raw.length > MAX_APP_URL_LENGTH) throw refuse(`is longer than ${MAX_APP_URL_LENGTH} characters.`);
  if (AMBIGUOUS_ANYWHERE.test(raw)) throw refuse('contains a backslash, whitespace or a control character.');
  const match = SHAPE.exec(raw);
  if (match === null) throw refuse('must look like scheme://host/path?query, without a fragment.');
  const [, rawScheme, authority, path, query = ''] = match as unknown as [string, string, string, string, string?];
  const scheme = rawScheme.toLowerCase();
  if (NEVER_APP_SCHEMES.has(scheme) || !allowedSchemes.some((allowed) => allowed.toLowerCase() === scheme)) {
    throw refuse(`uses the scheme "${scheme}", which is not an allowed app scheme.`);
  }
  if (authority.includes('@')) throw refuse('must not carry user info.');
  if (authority.includes(':')) throw refuse('must not name a port.');
  const host = authority.toLowerCase();
  if (!HOST.test(host)) throw refuse('does not name a valid host.');
  if (!hostAllowed(host, allowedHosts)) throw refuse(`host "${host}" is not on the allowed hosts.`);
  if (!PATH_AND_QUERY.test(path + query)) throw refuse('has characters a URL path or query may not hold unencoded.');
  if (namesAttributionParameter(new URLSearchParams(query))) throw refuse('must not carry hl_ parameters: the gateway appends its own, signed.');
  return `${scheme}://${host}${path}${query}`;
}
