import { z } from '@hono/zod-openapi';
import { ID_PATTERN, SLUG_PATTERN } from '../domain/link.js';

/**
 * Request and response shapes. The same schemas validate requests and generate /openapi.json,
 * so the document cannot drift from what the gateway accepts. Unknown fields are refused: a
 * misspelt "noteID" should fail loudly, not mint a link without a note.
 */
const id = (description: string) => z.string().regex(ID_PATTERN, 'must be 1 to 128 characters from A-Z a-z 0-9 . _ : -').openapi({ description });
const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

export const Problem = z
  .object({
    type: z.string().openapi({ example: 'https://hanglink.dev/problems/invalid-destination' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
  })
  .passthrough()
  .openapi('Problem');

const routeUrl = (description: string, example: string) => z.string().max(2048).openapi({ description, example });
const routeFields = {
  appUrl: routeUrl('Store app deep link, tried first on phones (scheme from HANGLINK_APP_SCHEMES)', 'taobao://item.taobao.com/item.htm?id=123').optional(),
  ios: routeUrl('Web destination for iPhone and iPad', 'https://item.taobao.com/item.htm?id=123').optional(),
  android: routeUrl('Web destination for Android', 'https://item.taobao.com/item.htm?id=123').optional(),
  desktop: routeUrl('Web destination for desktop browsers', 'https://item.taobao.com/item.htm?id=123').optional(),
};
const maxClicks = z.number().int().positive().openapi({ description: 'After this many billable clicks the short URL answers 410' });

export const NewLink = z
  .object({
    url: z.string().max(2048).openapi({ description: 'https item URL on an allowed host', example: 'https://item.taobao.com/item.htm?id=123' }),
    noteId: id('The note the link hangs under').openapi({ example: 'note-42' }),
    category: z.string().max(64).openapi({ example: 'beauty' }),
    campaignId: id('Campaign the link belongs to').optional().openapi({ example: 'spring' }),
    slug: z.string().regex(SLUG_PATTERN, 'must be 3 to 64 characters from A-Z a-z 0-9 _ -').optional(),
    expiresAt: isoDateTime.optional(),
    externalId: id('Your own id for the link: minting twice with the same one returns the first link').optional(),
    ...routeFields,
    maxClicks: maxClicks.optional(),
  })
  .strict()
  .openapi('NewLink');

export const BulkRequest = z
  .object({
    items: z
      .array(z.unknown())
      .min(1)
      .max(1000)
      .openapi({ description: 'Up to 1,000 NewLink objects, each validated on its own: a bad one never sinks the others' }),
  })
  .strict()
  .openapi('BulkLinks');

export const LinkPatch = z
  .object({
    url: z.string().max(2048).optional(),
    status: z.enum(['active', 'paused']).optional(),
    expiresAt: isoDateTime.nullable().optional(),
    appUrl: routeFields.appUrl.unwrap().nullable().optional(),
    ios: routeFields.ios.unwrap().nullable().optional(),
    android: routeFields.android.unwrap().nullable().optional(),
    desktop: routeFields.desktop.unwrap().nullable().optional(),
    maxClicks: maxClicks.nullable().optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one field to change' })
  .openapi('LinkPatch', { minProperties: 1 });

export const Link = z
  .object({
    code: z.string(),
    shortUrl: z.string(),
    url: z.string(),
    noteId: z.string(),
    campaignId: z.string().nullable(),
    category: z.string(),
    externalId: z.string().nullable(),
    expiresAt: z.string().nullable(),
    appUrl: z.string().nullable(),
    ios: z.string().nullable(),
    android: z.string().nullable(),
    desktop: z.string().nullable(),
    maxClicks: z.number().int().nullable(),
    status: z.enum(['active', 'paused', 'deleted']),
    createdAt: z.string(),
    updatedAt: z.string(),
    clicks: z.number().int(),
  })
  .openapi('Link');

export const LinkList = z.object({ links: z.array(Link), nextCursor: z.string().nullable() }).openapi('LinkList');

export const BulkResult = z
  .object({
    created: z.number().int(),
    existing: z.number().int(),
    failed: z.number().int(),
    results: z.array(
      z.object({
        index: z.number().int(),
        status: z.number().int().openapi({ description: '201 created, 200 existing (same externalId), or the error status' }),
        link: Link.optional(),
        error: Problem.optional(),
      }),
    ),
  })
  .openapi('BulkResult');

export const CodeParam = z.object({ code: z.string().openapi({ param: { name: 'code', in: 'path' }, example: 'spring-serum' }) });

/**
 * A page size from the query string: digits only, so '1e1', '0x10' or ' 5' are refused rather than
 * read as numbers they only resemble.
 */
const pageSize = (max: number, fallback: number) => {
  const message = `must be a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(/^[1-9][0-9]{0,5}$/, message)
    .transform(Number)
    .pipe(z.number().max(max, message))
    .default(fallback)
    .openapi({ type: 'integer', minimum: 1, maximum: max, default: fallback });
};

export const ListQuery = z
  .object({
    noteId: id('Only links under this note').optional(),
    campaignId: id('Only links in this campaign').optional(),
    cursor: z.string().max(200).optional(),
    limit: pageSize(200, 50),
  })
  .strict();

const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY').openapi({ example: 'CNY' });

export const NewMerchant = z
  .object({
    name: z.string().trim().min(1).max(200),
    currency: currency.optional().openapi({ description: 'Currency of orders and spend; default CNY' }),
  })
  .strict()
  .openapi('NewMerchant');

export const Merchant = z
  .object({ id: z.string(), name: z.string(), approvedCategories: z.array(z.string()), currency: z.string(), createdAt: z.string() })
  .openapi('Merchant');

export const CreatedMerchant = Merchant.extend({
  apiKey: z.string().openapi({ description: 'Shown this once; only its hash is stored' }),
}).openapi('CreatedMerchant');

export const MerchantIdParam = z.object({ id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' } }) });

export const Approvals = z.object({ categories: z.array(z.string().max(64)).max(64) }).strict().openapi('CategoryApprovals');

const problemContent = { 'application/problem+json': { schema: Problem } };

export const problemResponses = {
  400: { description: 'Invalid request', content: problemContent },
  401: { description: 'Missing or wrong API key', content: problemContent },
  413: { description: 'Request body past its limit', content: problemContent },
  415: { description: 'Request body not sent as application/json', content: problemContent },
  429: { description: 'The merchant’s rate limit is reached: RateLimit-* and Retry-After say when to retry', content: problemContent },
  503: { description: 'The store is unavailable: Retry-After says when to retry', content: problemContent },
} as const;

const amount = z.union([z.number(), z.string()]).openapi({ description: 'In the merchant currency, at most 2 decimals', example: 1299 });

export const Conversion = z
  .object({
    clickId: z.string().max(64).openapi({ description: 'hl_cid of the landing' }),
    orderId: z.string().max(128),
    amount,
    currency: z.string().max(8),
    newCustomer: z.boolean().default(false),
    occurredAt: isoDateTime.optional().openapi({ description: 'Default: now' }),
  })
  .strict()
  .openapi('Conversion');

export const Refund = z
  .object({ amount: amount.optional().openapi({ description: 'Default: everything not yet refunded' }) })
  .strict()
  .openapi('Refund');

export const Spend = z
  .object({
    amount,
    currency: z.string().max(8),
    date: z.iso
      .date()
      // Day buckets are named by four-digit years since the epoch: earlier days would name none.
      .refine((day) => day >= '1970-01-01', 'must be 1970-01-01 or later')
      .optional()
      .openapi({ description: 'The UTC day this spend is for; without it, the campaign total' }),
  })
  .strict()
  .openapi('Spend');

export const VerifyRequest = z.object({ url: z.string().max(4096) }).strict().openapi('VerifyRequest');

export const StatsQuery = z
  .object({
    groupBy: z.string().optional().openapi({ description: 'merchant | campaign | note | link' }),
    from: z.string().optional(),
    to: z.string().optional(),
    interval: z.string().optional().openapi({ description: 'hour | day | total' }),
  })
  .strict();

export const ClicksQuery = z
  .object({
    from: z.string().optional(),
    to: z.string().optional(),
    cursor: z.string().max(64).optional(),
    limit: pageSize(10_000, 1000),
  })
  .strict();
