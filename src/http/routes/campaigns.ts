import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { invalid } from '../../domain/errors.js';
import { ID_PATTERN } from '../../domain/link.js';
import { checkCurrency, formatAmount, parseAmount } from '../../domain/money.js';
import { dayBucket } from '../../domain/time-buckets.js';
import type { AttributionStore } from '../../store/types.js';
import type { AppEnv } from '../env.js';
import { validationHook } from '../problems.js';
import * as s from '../schemas.js';
import { jsonBody, jsonResponse, merchantSecurity as security } from './openapi-helpers.js';

const setSpend = createRoute({
  method: 'put',
  path: '/v1/campaigns/{campaignId}/spend',
  summary: 'Set what a campaign cost on a day, or in total; setting again replaces it',
  security,
  request: { params: z.object({ campaignId: z.string().max(128) }), ...jsonBody(s.Spend) },
  responses: { 200: jsonResponse(z.object({}).passthrough().openapi('CampaignSpend'), 'Recorded'), ...s.problemResponses },
});

export function campaignRoutes(store: AttributionStore): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  routes.openapi(setSpend, async (c) => {
    const merchant = c.get('merchant');
    const { campaignId } = c.req.valid('param');
    const { amount, currency, date } = c.req.valid('json');
    if (!ID_PATTERN.test(campaignId)) throw invalid('invalid-id', 'campaignId must be 1 to 128 characters from A-Z a-z 0-9 . _ : -', { field: 'campaignId' });
    const amountMinor = parseAmount(amount);
    checkCurrency(currency, merchant.currency);
    const period = date === undefined ? 'total' : dayBucket(Date.parse(`${date}T00:00:00Z`));
    await store.setSpend(merchant.id, campaignId, period, amountMinor);
    return c.json({ campaignId, date: date ?? null, amount: formatAmount(amountMinor), currency }, 200);
  });

  return routes;
}
