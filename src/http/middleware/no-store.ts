import type { MiddlewareHandler } from 'hono';

/** The API answers with merchants' data and, once, their keys: no cache along the way may keep any of it. */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
};
