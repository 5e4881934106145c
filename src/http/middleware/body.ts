import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HanglinkError } from '../../domain/errors.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Refuses bodies that are not JSON, before any parsing, with a problem naming what to send. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  if (WRITE_METHODS.has(c.req.method)) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new HanglinkError('unsupported_media_type', 'unsupported-media-type', 'Unsupported media type', 'Send the body as JSON with "Content-Type: application/json".');
    }
  }
  await next();
};

/** Caps a request body; beyond it the request is refused unread. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HanglinkError('too_large', 'body-too-large', 'Request body too large', `The body may be at most ${maxBytes} bytes.`, { maxBytes });
    },
  });
}
