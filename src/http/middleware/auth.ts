import type { MiddlewareHandler } from 'hono';
import { hashApiKey, secretsEqual } from '../../domain/api-key.js';
import { HanglinkError } from '../../domain/errors.js';
import { merchantWithDefaults } from '../../domain/merchant.js';
import type { MerchantStore } from '../../store/types.js';
import type { AppEnv } from '../env.js';

const unauthorized = (detail: string) => new HanglinkError('unauthorized', 'unauthorized', 'Unauthorized', detail);

function bearer(header: string | undefined): string {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw unauthorized('Send the key as "Authorization: Bearer <key>".');
  return match[1] as string;
}

/** Resolves the merchant behind an API key; every merchant route sees only its own data through it. */
export function merchantAuth(store: MerchantStore): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = bearer(c.req.header('authorization'));
    const merchant = key.length > 256 ? null : await store.merchantByKeyHash(hashApiKey(key));
    if (merchant === null) throw unauthorized('The API key is not valid.');
    c.set('merchant', merchantWithDefaults(merchant));
    await next();
  };
}

export function adminAuth(adminToken: string): MiddlewareHandler {
  return async (c, next) => {
    if (!secretsEqual(bearer(c.req.header('authorization')), adminToken)) throw unauthorized('The admin token is not valid.');
    await next();
  };
}
