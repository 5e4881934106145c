import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { invalid } from '../../domain/errors.js';
import { parseStatsQuery } from '../../domain/stats-query.js';
import type { AttributionStore, ClassifiedClick } from '../../store/types.js';
import type { AppEnv } from '../env.js';
import { validationHook } from '../problems.js';
import * as s from '../schemas.js';
import { merchantSecurity as security } from './openapi-helpers.js';

const COLUMNS = [
  'clickId', 'at', 'kind', 'linkCode', 'noteId', 'campaignId', 'route', 'bot', 'deviceType', 'platform', 'os', 'osVersion',
  'browser', 'browserVersion', 'inApp', 'visitorId', 'ipPrefix', 'acceptLanguage', 'referrer', 'userAgent',
] as const;
const CURSOR = /^(\d{1,20})(?:-(\d{1,20}))?$/;
const MAX_ID_PART = 2n ** 64n - 1n;

/**
 * A cursor is a click stream id, "ms-seq", each part an unsigned 64-bit number. The store reads on
 * from just after it, so the very last id (nothing can follow it) is no cursor either: Redis would
 * refuse both with an error, not an empty page.
 */
function isCursor(cursor: string): boolean {
  const match = CURSOR.exec(cursor);
  if (match === null) return false;
  const ms = BigInt(match[1]!);
  const seq = match[2] === undefined ? null : BigInt(match[2]);
  return ms <= MAX_ID_PART && (seq === null || (seq <= MAX_ID_PART && !(ms === MAX_ID_PART && seq === MAX_ID_PART)));
}

function row(click: ClassifiedClick) {
  return Object.fromEntries(COLUMNS.map((column) => [column, column === 'at' ? new Date(click.at).toISOString() : click[column]]));
}

// Ids, times and kinds the gateway writes itself, exported exactly so a program can join them to landings
// and orders. Every other column comes from a visitor's text, or from what the user-agent parser copies
// out of it (a version after "Chromium/", say): a spreadsheet would run it as a formula if it starts with
// = + - @, so it is defused, and so is any column added later unless it is named here.
const OURS = new Set<string>(['clickId', 'at', 'kind', 'linkCode', 'noteId', 'campaignId', 'route', 'bot', 'visitorId', 'ipPrefix']);

// RFC 4180: quote every field and double its quotes.
function csvField(column: string, value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return `"${(!OURS.has(column) && /^[=+\-@]/.test(text) ? `'${text}` : text).replaceAll('"', '""')}"`;
}

const exportClicks = createRoute({
  method: 'get',
  path: '/v1/clicks',
  summary: 'The merchant’s raw click records, oldest first (NDJSON, or CSV with Accept: text/csv)',
  security,
  request: { query: s.ClicksQuery },
  responses: {
    200: {
      description: 'One page of records; the Link header (rel="next") names the next page',
      content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
    },
    ...s.problemResponses,
  },
});

export function clickRoutes(store: AttributionStore, now: () => number): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  routes.openapi(exportClicks, async (c) => {
    const { from, to, cursor, limit } = c.req.valid('query');
    if (cursor !== undefined && !isCursor(cursor)) throw invalid('invalid-cursor', 'cursor must be one this endpoint returned.', { field: 'cursor' });
    // Up to and including this very millisecond: an export taken right after a tap shows it.
    const range = parseStatsQuery({ from, to, interval: 'day' }, now() + 1);
    // No tap is older than 1970, and a stream range ending before it is an error in Redis, not an empty one.
    const page = range.toMs <= 0 ? { clicks: [], nextCursor: null } : await store.readClicks(c.get('merchant').id, range.fromMs, range.toMs, limit, cursor ?? null);
    const csv = (c.req.header('accept') ?? '').includes('text/csv');
    const body = csv
      ? [COLUMNS.join(','), ...page.clicks.map((click) => Object.entries(row(click)).map(([column, value]) => csvField(column, value)).join(','))].join('\r\n') + '\r\n'
      : page.clicks.map((click) => `${JSON.stringify(row(click))}\n`).join('');
    const headers: Record<string, string> = { 'content-type': csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson' };
    if (page.nextCursor !== null) {
      const next = new URL(c.req.url);
      next.searchParams.set('cursor', page.nextCursor);
      headers.link = `<${next.pathname}${next.search}>; rel="next"`;
    }
    return c.body(body, 200, headers) as never;
  });
  return routes;
}
