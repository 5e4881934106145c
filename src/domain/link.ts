import { HanglinkError, invalid } from './errors.js';
import { type AllowedHosts, type Destination, hostAllowed, parseDestination, splitVettedUrl } from './destination.js';
import { parseAppUrl } from './app-link.js';
import { namesAttributionParameter } from './attribution.js';
import { type CategoryPolicy, checkCategory } from './categories.js';
import type { Merchant } from './merchant.js';

export type LinkStatus = 'active' | 'paused' | 'deleted';

export interface Link {
  code: string;
  merchantId: string;
  url: string;
  noteId: string;
  campaignId: string | null;
  category: string;
  externalId: string | null;
  expiresAt: string | null;
  /** App deep link (the store app's own scheme) tried first on a phone; see device-routing.ts. */
  appUrl: string | null;
  /** Per-platform web destinations; null means the main url. */
  ios: string | null;
  android: string | null;
  desktop: string | null;
  /** After this many billable clicks the link answers 410. */
  maxClicks: number | null;
  status: LinkStatus;
  createdAt: string;
  updatedAt: string;
}

/** Slugs share the path space with the gateway's own routes, so those names are taken for good. */
export const SLUG_PATTERN = /^[A-Za-z0-9_-]{3,64}$/;
export const RESERVED_SLUGS = new Set(['v1', 'i', 'healthz', 'readyz', 'openapi', 'docs', 'admin', 'favicon.ico', 'robots.txt']);
/** Note, campaign and external ids travel in URLs and Redis keys unencoded, so they stay in this alphabet. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** What `/:code` can possibly be: generated codes and slugs alike. */
export const CODE_PATTERN = SLUG_PATTERN;

export interface NewLinkInput {
  url: string;
  noteId: string;
  category: string;
  campaignId?: string | undefined;
  slug?: string | undefined;
  expiresAt?: string | undefined;
  externalId?: string | undefined;
  appUrl?: string | undefined;
  ios?: string | undefined;
  android?: string | undefined;
  desktop?: string | undefined;
  maxClicks?: number | undefined;
}

export interface LinkRules {
  allowedHosts: AllowedHosts;
  categories: CategoryPolicy;
  appSchemes: readonly string[];
}

type RouteField = 'appUrl' | 'ios' | 'android' | 'desktop';
const ROUTE_FIELDS: readonly RouteField[] = ['appUrl', 'ios', 'android', 'desktop'];

function vetRoute(field: RouteField, raw: string, rules: LinkRules): string {
  return field === 'appUrl'
    ? parseAppUrl(raw, rules.appSchemes, rules.allowedHosts, field)
    : parseDestination(raw, rules.allowedHosts, field).url;
}

function checkMaxClicks(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalid('invalid-max-clicks', 'maxClicks must be a positive whole number.', { field: 'maxClicks' });
  }
  return value;
}

export function checkSlug(slug: string): void {
  if (!SLUG_PATTERN.test(slug)) {
    throw invalid('invalid-slug', 'slug must be 3 to 64 characters from A-Z, a-z, 0-9, "_" and "-".', { field: 'slug' });
  }
  if (RESERVED_SLUGS.has(slug.toLowerCase())) {
    throw new HanglinkError('conflict', 'slug-taken', 'Slug taken', `The slug "${slug}" is reserved by the gateway.`, { field: 'slug' });
  }
}

function checkId(field: string, value: string): void {
  if (!ID_PATTERN.test(value)) {
    throw invalid('invalid-id', `${field} must be 1 to 128 characters from A-Z, a-z, 0-9, ".", "_", ":" and "-".`, { field });
  }
}

function checkExpiry(expiresAt: string, now: Date): string {
  const at = new Date(expiresAt);
  if (Number.isNaN(at.getTime())) {
    throw invalid('invalid-expiry', 'expiresAt must be an ISO 8601 date-time.', { field: 'expiresAt' });
  }
  if (at.getTime() <= now.getTime()) {
    throw invalid('invalid-expiry', 'expiresAt must be in the future.', { field: 'expiresAt' });
  }
  return at.toISOString();
}

/** Vets a mint request and builds the link it describes; the caller supplies the code. */
export function buildLink(
  input: NewLinkInput,
  code: string,
  merchant: Merchant,
  rules: LinkRules,
  now: Date,
): Link {
  const url = parseDestination(input.url, rules.allowedHosts).url;
  checkId('noteId', input.noteId);
  if (input.campaignId !== undefined) checkId('campaignId', input.campaignId);
  if (input.externalId !== undefined) checkId('externalId', input.externalId);
  if (input.slug !== undefined) checkSlug(input.slug);
  checkCategory(rules.categories, input.category, merchant.approvedCategories);
  const stamp = now.toISOString();
  return {
    code: input.slug ?? code,
    merchantId: merchant.id,
    url,
    noteId: input.noteId,
    campaignId: input.campaignId ?? null,
    category: input.category,
    externalId: input.externalId ?? null,
    expiresAt: input.expiresAt === undefined ? null : checkExpiry(input.expiresAt, now),
    appUrl: input.appUrl === undefined ? null : vetRoute('appUrl', input.appUrl, rules),
    ios: input.ios === undefined ? null : vetRoute('ios', input.ios, rules),
    android: input.android === undefined ? null : vetRoute('android', input.android, rules),
    desktop: input.desktop === undefined ? null : vetRoute('desktop', input.desktop, rules),
    maxClicks: input.maxClicks === undefined ? null : checkMaxClicks(input.maxClicks),
    status: 'active',
    createdAt: stamp,
    updatedAt: stamp,
  };
}

export interface LinkPatch {
  url?: string | undefined;
  status?: 'active' | 'paused' | undefined;
  expiresAt?: string | null | undefined;
  appUrl?: string | null | undefined;
  ios?: string | null | undefined;
  android?: string | null | undefined;
  desktop?: string | null | undefined;
  maxClicks?: number | null | undefined;
}

/** Applies a merchant's change; a deleted link stays deleted. */
export function applyPatch(link: Link, patch: LinkPatch, rules: LinkRules, now: Date): Link {
  if (link.status === 'deleted') {
    throw new HanglinkError('gone', 'link-deleted', 'Link deleted', `Link "${link.code}" was deleted and cannot change.`);
  }
  const routes: Partial<Pick<Link, RouteField>> = {};
  for (const field of ROUTE_FIELDS) {
    const value = patch[field];
    if (value !== undefined) routes[field] = value === null ? null : vetRoute(field, value, rules);
  }
  return {
    ...link,
    ...routes,
    maxClicks: patch.maxClicks === undefined ? link.maxClicks : patch.maxClicks === null ? null : checkMaxClicks(patch.maxClicks),
    url: patch.url === undefined ? link.url : parseDestination(patch.url, rules.allowedHosts).url,
    status: patch.status ?? link.status,
    expiresAt:
      patch.expiresAt === undefined ? link.expiresAt : patch.expiresAt === null ? null : checkExpiry(patch.expiresAt, now),
    updatedAt: now.toISOString(),
  };
}

/** A link as the redirect needs it: destination pre-split, expiry pre-parsed, so a tap does string work only. */
export interface ResolvedLink {
  link: Link;
  destination: Destination;
  expiresAtMs: number | null;
  /** False when the operator has since removed a host this link leads to from the allowed hosts. */
  destinationAllowed: boolean;
  /** True when the link routes by device, so a tap must look at the user agent. */
  routesByDevice: boolean;
  /** For a link with maxClicks: billable clicks when loaded, plus taps served by this process since. */
  clicksSoFar: number;
}

/** Links stored before a field existed read it as null. */
export function withDefaults(link: Link): Link {
  const stored: Partial<Link> = link;
  return {
    ...link,
    appUrl: stored.appUrl ?? null,
    ios: stored.ios ?? null,
    android: stored.android ?? null,
    desktop: stored.desktop ?? null,
    maxClicks: stored.maxClicks ?? null,
  };
}

export function prepareForRedirect(stored: Link, allowedHosts: AllowedHosts, clicksSoFar: number): ResolvedLink {
  const link = withDefaults(stored);
  const urls = [link.url, link.ios, link.android, link.desktop, link.appUrl].flatMap((url) => (url === null ? [] : [new URL(url)]));
  return {
    link,
    destination: splitVettedUrl(link.url),
    expiresAtMs: link.expiresAt === null ? null : Date.parse(link.expiresAt),
    // Checked on every load, not only at mint: the operator may have removed a host since, and links
    // stored before hl_ parameters were refused may carry some.
    destinationAllowed: urls.every((url) => hostAllowed(url.hostname, allowedHosts) && !namesAttributionParameter(url.searchParams)),
    routesByDevice: ROUTE_FIELDS.some((field) => link[field] !== null),
    clicksSoFar,
  };
}

export type GoneReason = 'expired' | 'paused' | 'deleted' | 'click-cap-reached' | 'destination-not-allowed';

export type Resolution =
  | { outcome: 'redirect'; resolved: ResolvedLink }
  | { outcome: 'not-found' }
  | { outcome: 'gone'; reason: GoneReason };

/** Decides what a tap on a link gets. */
export function resolveLink(resolved: ResolvedLink | null, nowMs: number): Resolution {
  if (resolved === null) return { outcome: 'not-found' };
  const { link } = resolved;
  if (link.status === 'deleted') return { outcome: 'gone', reason: 'deleted' };
  if (link.status === 'paused') return { outcome: 'gone', reason: 'paused' };
  if (resolved.expiresAtMs !== null && nowMs >= resolved.expiresAtMs) return { outcome: 'gone', reason: 'expired' };
  if (link.maxClicks !== null && resolved.clicksSoFar >= link.maxClicks) return { outcome: 'gone', reason: 'click-cap-reached' };
  if (!resolved.destinationAllowed) return { outcome: 'gone', reason: 'destination-not-allowed' };
  return { outcome: 'redirect', resolved };
}
