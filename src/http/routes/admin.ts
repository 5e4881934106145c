import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { hashApiKey } from '../../domain/api-key.js';
import { type CategoryPolicy, checkApprovals } from '../../domain/categories.js';
import { notFound } from '../../domain/errors.js';
import { DEFAULT_CURRENCY, type Merchant } from '../../domain/merchant.js';
import type { Ids } from '../../ids.js';
import type { MerchantStore } from '../../store/types.js';
import { validationHook } from '../problems.js';
import * as s from '../schemas.js';
import { problemResponse as problem } from './openapi-helpers.js';

export interface AdminRouteDeps {
  store: MerchantStore;
  ids: Pick<Ids, 'merchantId' | 'apiKey'>;
  categories: CategoryPolicy;
  now: () => number;
}

const security = [{ adminToken: [] }];

const createMerchant = createRoute({
  method: 'post',
  path: '/v1/admin/merchants',
  summary: 'Create a merchant and its API key (shown this once)',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: s.NewMerchant } } } },
  responses: { 201: { description: 'Created', content: { 'application/json': { schema: s.CreatedMerchant } } }, ...s.problemResponses },
});

const setCategories = createRoute({
  method: 'put',
  path: '/v1/admin/merchants/{id}/categories',
  summary: 'Set the whitelist categories a merchant is approved for',
  security,
  request: { params: s.MerchantIdParam, body: { required: true, content: { 'application/json': { schema: s.Approvals } } } },
  responses: {
    200: { description: 'The merchant', content: { 'application/json': { schema: s.Merchant } } },
    ...s.problemResponses,
    404: problem('No such merchant'),
  },
});

export function adminRoutes(deps: AdminRouteDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ defaultHook: validationHook });

  routes.openapi(createMerchant, async (c) => {
    const apiKey = deps.ids.apiKey();
    const { name, currency } = c.req.valid('json');
    const merchant: Merchant = {
      id: deps.ids.merchantId(),
      name,
      approvedCategories: [],
      currency: currency ?? DEFAULT_CURRENCY,
      createdAt: new Date(deps.now()).toISOString(),
    };
    await deps.store.createMerchant(merchant, hashApiKey(apiKey));
    return c.json({ ...merchant, apiKey }, 201);
  });

  routes.openapi(setCategories, async (c) => {
    const categories = checkApprovals(deps.categories, c.req.valid('json').categories);
    const merchant = await deps.store.setApprovedCategories(c.req.valid('param').id, categories);
    if (merchant === null) throw notFound('merchant');
    return c.json(merchant, 200);
  });

  return routes;
}
