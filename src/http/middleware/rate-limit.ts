import type { MiddlewareHandler } from 'hono';
import { HanglinkError } from '../../domain/errors.js';
import { errorProblem, problemResponse } from '../problems.js';
import type { RateLimitStore } from '../../store/types.js';
import type { AppEnv } from '../env.js';

const WINDOW_MS = 60_000;

/**
 * Per merchant key, a fixed one-minute window counted in the store, so every gateway process
 * shares one budget. Answers carry the IETF RateLimit fields so clients can pace themselves.
 */
export function merchantRateLimit(store: RateLimitStore, limitPerMinute: number, now: () => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const nowMs = now();
    const window = Math.floor(nowMs / WINDOW_MS);
    const count = await store.countRequest(`merchant:${c.get('merchant').id}`, window, WINDOW_MS);
    const resetSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - nowMs) / 1000));
    const headers = {
      'ratelimit-limit': String(limitPerMinute),
      'ratelimit-remaining': String(Math.max(0, limitPerMinute - count)),
      'ratelimit-reset': String(resetSeconds),
    };
    if (count > limitPerMinute) {
      const error = new HanglinkError('rate_limited', 'rate-limited', 'Too many requests', `This API key may make ${limitPerMinute} requests a minute; retry after ${resetSeconds} s.`, {
        retryAfterSeconds: resetSeconds,
      });
      // Answered here rather than thrown, so the refusal carries the RateLimit fields like every other answer.
      // Set on the context too: the app wraps this middleware and does not pass its return value on.
      c.res = problemResponse(errorProblem(error), { ...headers, 'retry-after': String(resetSeconds) });
      return c.res;
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}
