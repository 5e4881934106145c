import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { type SigningKey, type VerifyFailure, verifyAttribution } from '../../domain/attribution.js';
import type { AttributionStore } from '../../store/types.js';
import type { AppEnv } from '../env.js';
import { validationHook } from '../problems.js';
import * as s from '../schemas.js';
import { jsonBody, jsonResponse, merchantSecurity as security } from './openapi-helpers.js';

export interface VerifyDeps {
  store: Pick<AttributionStore, 'clickOrigin'>;
  keys: readonly SigningKey[];
  attributionWindowMs: number;
  now: () => number;
}

const REASONS: Record<VerifyFailure | 'unknown-click', string> = {
  malformed: 'The URL does not end in the hl_ parameters the gateway appends.',
  'bad-signature': 'The signature does not match: the URL or a parameter was changed.',
  'unknown-key': 'hl_kid names no signing key the gateway accepts: never configured, or retired and past its end.',
  expired: 'The landing is older than the attribution window.',
  'from-the-future': 'hl_ts is ahead of the gateway’s clock.',
  'unknown-click': 'The signature holds, but this merchant has no such click, or not yet: a click is written moments after its tap, so retry a landing verified at once.',
};

const verify = createRoute({
  method: 'post',
  path: '/v1/attribution/verify',
  summary: 'Check a landing URL: signature, key, age, and that the click is this merchant’s',
  security,
  request: jsonBody(s.VerifyRequest),
  responses: { 200: jsonResponse(z.object({ valid: z.boolean() }).passthrough().openapi('Verdict'), 'The verdict'), ...s.problemResponses },
});

export function attributionRoutes(deps: VerifyDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  routes.openapi(verify, async (c) => {
    const verdict = verifyAttribution(c.req.valid('json').url, deps.keys, {
      nowMs: deps.now(),
      maxAgeSeconds: deps.attributionWindowMs / 1000,
    });
    if (!verdict.valid) return c.json({ valid: false, reason: verdict.reason, detail: REASONS[verdict.reason] }, 200);
    const origin = await deps.store.clickOrigin(verdict.clickId);
    if (origin === null || origin.merchantId !== c.get('merchant').id || origin.linkCode !== verdict.linkCode) {
      return c.json({ valid: false, reason: 'unknown-click', detail: REASONS['unknown-click'] }, 200);
    }
    return c.json(
      {
        valid: true,
        clickId: verdict.clickId,
        linkCode: verdict.linkCode,
        noteId: verdict.noteId,
        campaignId: origin.campaignId,
        clickedAt: new Date(origin.at).toISOString(),
        keyId: verdict.keyId,
      },
      200,
    );
  });
  return routes;
}
