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

/**
 * How deeply a JSON body's arrays and objects nest: `{}` is 1, `{"a":[1]}` is 2. Brackets inside
 * strings do not count, and the text need not be valid JSON (the parser refuses that later); the
 * scan stops as soon as it passes `limit`, so a hostile body costs one pass over at most its bytes.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) depth--;
  }
  return false;
}

/**
 * Refuses a JSON body nested deeper than `maxDepth`, before anything parses or validates it. Runs
 * after limitBody, so what it reads is already capped in size; the text stays cached for the
 * validators.
 */
export function limitJsonDepth(maxDepth: number): MiddlewareHandler {
  return async (c, next) => {
    if (WRITE_METHODS.has(c.req.method) && c.req.raw.body !== null && jsonDepthExceeds(await c.req.text(), maxDepth)) {
      throw new HanglinkError('invalid', 'json-too-deep', 'JSON nested too deeply', `Arrays and objects in the body may nest at most ${maxDepth} deep.`, {
        maxDepth,
      });
    }
    await next();
  };
}
