import type { IncomingMessage, RequestListener } from 'node:http';
import { REDIRECT_HEADERS, type Tap } from '../http/tap.js';

/** Where the client address is: the socket, or the first X-Forwarded-For hop behind a trusted proxy. */
export function nodeClientIp(trustProxy: boolean, forwardedFor: string | undefined, socketAddress: string | undefined): string | undefined {
  if (trustProxy && forwardedFor !== undefined) {
    const comma = forwardedFor.indexOf(',');
    return (comma === -1 ? forwardedFor : forwardedFor.slice(0, comma)).trim();
  }
  return socketAddress;
}

// A Host @hono/node-server takes as it is; any other (missing, odd, upper case) goes to the app, which
// vets it. The fast path must refuse nothing the app would not, nor serve anything the app refuses.
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:\d{1,4}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?$/;

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Puts the app's plain-tap path in front of the full app: the common tap (a cached, live link)
 * is answered straight on node:http, skipping the Request, Response and Headers objects that cost
 * a third of a tap; everything else, and every refusal, goes to the app unchanged.
 */
export function withFastTaps(
  plainTap: (code: string, tap: Tap) => string | null,
  app: RequestListener,
  trustProxy: boolean,
): RequestListener {
  return (request, response) => {
    const url = request.url ?? '';
    const method = request.method ?? '';
    if (
      (method === 'GET' || method === 'HEAD') &&
      url.charCodeAt(0) === 47 &&
      url.length > 1 &&
      url.indexOf('/', 1) === -1 &&
      PLAIN_HOST.test(request.headers.host ?? '')
    ) {
      const queryAt = url.indexOf('?');
      const tap: Tap = {
        method,
        header: (name) => header(request, name),
        ip: nodeClientIp(trustProxy, header(request, 'x-forwarded-for'), request.socket.remoteAddress),
      };
      const location = plainTap(queryAt === -1 ? url.slice(1) : url.slice(1, queryAt), tap);
      if (location !== null) {
        // A flat list is node:http's cheapest form of headers (and a spread plus more keys is slow in V8).
        response.writeHead(302, [
          'cache-control',
          REDIRECT_HEADERS['cache-control'],
          'referrer-policy',
          REDIRECT_HEADERS['referrer-policy'],
          'location',
          location,
          'content-length',
          '0',
        ]);
        response.end();
        return;
      }
    }
    app(request, response);
  };
}
