import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { parseStatsQuery } from '../../domain/stats-query.js';
import { funnelReport } from '../../services/stats.js';
import type { AttributionStore, StatsStore } from '../../store/types.js';
import type { AppEnv } from '../env.js';
import { validationHook } from '../problems.js';
import * as s from '../schemas.js';
import { jsonResponse, merchantSecurity as security } from './openapi-helpers.js';

const stats = createRoute({
  method: 'get',
  path: '/v1/stats',
  summary: 'The funnel per merchant, campaign, note or link, per hour, day or in total',
  security,
  request: { query: s.StatsQuery },
  responses: { 200: jsonResponse(z.object({}).passthrough().openapi('FunnelReport'), 'The funnel'), ...s.problemResponses },
});

export function statsRoutes(store: StatsStore & AttributionStore, now: () => number): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  routes.openapi(stats, async (c) => {
    const merchant = c.get('merchant');
    const report = await funnelReport(store, merchant.id, parseStatsQuery(c.req.valid('query'), now()));
    return c.json({ currency: merchant.currency, ...report }, 200);
  });
  return routes;
}
