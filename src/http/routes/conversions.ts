import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { type ConversionDeps, orderView, recordConversion, refundConversion } from '../../services/conversions.js';
import type { AppEnv } from '../env.js';
import { validationHook } from '../problems.js';
import * as s from '../schemas.js';
import { jsonBody, jsonResponse, merchantSecurity as security, problemResponse } from './openapi-helpers.js';

const Order = z.object({}).passthrough().openapi('Order');

const report = createRoute({
  method: 'post',
  path: '/v1/conversions',
  summary: 'Report an order against a click; the same orderId twice counts once',
  security,
  request: jsonBody(s.Conversion),
  responses: {
    201: jsonResponse(Order, 'Counted'),
    200: jsonResponse(Order, 'Already reported: counted once, `duplicate: true`'),
    ...s.problemResponses,
    404: problemResponse('Unknown click (or another merchant’s)'),
  },
});

const refund = createRoute({
  method: 'post',
  path: '/v1/conversions/{orderId}/refund',
  summary: 'Take an order’s amount (or part of it) back out of the figures',
  security,
  request: { params: z.object({ orderId: z.string().max(128) }), ...jsonBody(s.Refund) },
  responses: { 200: jsonResponse(Order, 'The order after the refund'), ...s.problemResponses, 404: problemResponse('Unknown order'), 409: problemResponse('More than is left') },
});

export function conversionRoutes(deps: ConversionDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  routes.openapi(report, async (c) => {
    const { duplicate, order } = await recordConversion(deps, c.get('merchant'), c.req.valid('json'));
    return duplicate ? c.json({ ...orderView(order), duplicate }, 200) : c.json({ ...orderView(order), duplicate }, 201);
  });

  routes.openapi(refund, async (c) => {
    const order = await refundConversion(deps, c.get('merchant'), c.req.valid('param').orderId, c.req.valid('json').amount);
    return c.json(orderView(order), 200);
  });

  return routes;
}
