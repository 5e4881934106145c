import type { ClickCounter, ClickKind, StoredClick } from '../domain/click.js';
import type { Link } from '../domain/link.js';
import type { Merchant } from '../domain/merchant.js';

/**
 * The narrow interfaces the app talks to. Two adapters implement them: Redis (the real one)
 * and an in-process store for running without Redis. One contract suite (test/store) runs
 * against both, so they cannot drift apart.
 */
export interface MerchantStore {
  createMerchant(merchant: Merchant, apiKeyHash: string): Promise<void>;
  merchantByKeyHash(apiKeyHash: string): Promise<Merchant | null>;
  getMerchant(id: string): Promise<Merchant | null>;
  setApprovedCategories(id: string, categories: string[]): Promise<Merchant | null>;
}

export type CreateLinkResult =
  | { created: true; link: Link }
  | { created: false; reason: 'code-taken' }
  | { created: false; reason: 'external-id-exists'; link: Link };

export interface LinkFilter {
  noteId?: string | undefined;
  campaignId?: string | undefined;
}

export interface LinkPage {
  links: Link[];
  /** Opaque; null when there is nothing more. */
  nextCursor: string | null;
}

export interface LinkStore {
  /**
   * Stores a new link atomically: fails without writing anything if the code is taken or the
   * merchant already has a link with the same externalId (then that link is returned).
   */
  createLink(link: Link): Promise<CreateLinkResult>;
  getLink(code: string): Promise<Link | null>;
  /**
   * Replaces a stored link (same code) if it is still as `previous` was read, so two changes at once
   * cannot undo each other (a PATCH read before a DELETE must not bring the link back); a deleted
   * link leaves the merchant's listings. false: the link changed meanwhile, and nothing was written.
   */
  saveLink(link: Link, previous: Link): Promise<boolean>;
  /** The merchant's live (not deleted) links, newest first. */
  listLinks(merchantId: string, filter: LinkFilter, limit: number, cursor: string | null): Promise<LinkPage>;
}

export interface ClickSink {
  /**
   * Writes a batch of clicks in order, classifying each (see classifyClick) and counting it in
   * its link's, note's, campaign's and merchant's hour and day buckets. A click id already
   * written is skipped, so a batch can be retried after a failure without counting anything twice.
   * `after` names the click just before the batch when its write may still be under way: unless
   * that click is written, the batch writes nothing and rejects (ClicksOutOfOrder), so it never lands ahead of it.
   */
  writeClicks(clicks: readonly StoredClick[], after?: string): Promise<void>;
}

/** Why the store refused: it could not be reached or cannot take commands for now (down, restarting, too slow, a replica), or it is out of memory and refuses writes. */
export type StoreOutage = 'unreachable' | 'full';

export type GroupType = 'merchant' | 'campaign' | 'note' | 'link';
export type CounterName = ClickCounter | 'impressions' | 'orders' | 'gmvMinor' | 'newCustomers';
/** Counters of one group, per bucket (see domain/time-buckets); absent counters are 0. */
export type GroupCounters = Map<string, Partial<Record<CounterName, number>>>;

export interface StatsStore {
  /** Billable clicks (unique and repeat) per link code, 0 for none. */
  clickCounts(codes: readonly string[]): Promise<Map<string, number>>;
  /** Every group of this type with counts in any of the buckets, keyed by group id ('' for "no campaign"). */
  readCounters(merchantId: string, groupType: GroupType, buckets: readonly string[]): Promise<Map<string, GroupCounters>>;
  /** How many groups of this type have counts in any bucket: those readCounters reads. */
  countGroups(merchantId: string, groupType: GroupType): Promise<number>;
}

/** Where a click came from: what its marker keeps for the attribution window. */
export interface ClickOrigin {
  merchantId: string;
  linkCode: string;
  noteId: string;
  campaignId: string | null;
  at: number;
}

export interface Order {
  merchantId: string;
  orderId: string;
  clickId: string;
  origin: ClickOrigin;
  amountMinor: number;
  currency: string;
  newCustomer: boolean;
  occurredAt: number;
  refundedMinor: number;
}

export type RefundResult =
  | { outcome: 'refunded'; order: Order }
  | { outcome: 'unknown-order' }
  | { outcome: 'exceeds-remaining'; remainingMinor: number };

export interface CounterIncrement {
  origin: Pick<ClickOrigin, 'merchantId' | 'linkCode' | 'noteId' | 'campaignId'>;
  /** ms; picks the hour and day buckets */
  at: number;
  counter: CounterName;
  by: number;
}

export type ClassifiedClick = StoredClick & { kind: ClickKind };

export interface ClickPage {
  clicks: ClassifiedClick[];
  nextCursor: string | null;
}

/** Closing the loop: what orders need of clicks, and what the funnel adds up. */
export interface AttributionStore {
  /** The click's origin while its marker lives (the attribution window and a day), else null. */
  clickOrigin(clickId: string): Promise<ClickOrigin | null>;
  /** The merchant's order with this id, as recorded (with what was refunded), or null. */
  findOrder(merchantId: string, orderId: string): Promise<Order | null>;
  /** Records an order once and counts it; a second call with the same merchant and orderId changes nothing. */
  recordOrder(order: Order): Promise<{ outcome: 'recorded' } | { outcome: 'duplicate'; order: Order }>;
  /** Takes an amount back out of an order's figures; the whole amount also takes the order (and its new customer) out. */
  refundOrder(merchantId: string, orderId: string, amountMinor: number | null): Promise<RefundResult>;
  /** Adds to counters, summed per bucket and counter: impressions arrive this way, in batches. */
  addCounters(increments: readonly CounterIncrement[]): Promise<void>;
  /** Sets what a campaign cost on a day ('d'+YYYYMMDD) or in total ('total'); setting again replaces it. */
  setSpend(merchantId: string, campaignId: string, period: string, amountMinor: number): Promise<void>;
  /** Every campaign's spend, per period. */
  readSpend(merchantId: string): Promise<Map<string, Map<string, number>>>;
  /** The merchant's click records written in [fromMs, toMs), oldest first, a page at a time. */
  readClicks(merchantId: string, fromMs: number, toMs: number, limit: number, cursor: string | null): Promise<ClickPage>;
}

export interface RateLimitStore {
  /** Counts one request of `subject` in the fixed window `window` and returns the count so far. */
  countRequest(subject: string, window: number, windowMs: number): Promise<number>;
}

/** What a process hears of link changes made anywhere (LinkChangeFeed). */
export interface LinkChangeListener {
  /** This link was created, changed or deleted; null: any link may have been (the store was emptied). */
  changed(code: string | null): void;
  /** Changes start (true) or stop (false) arriving: in between, some may have been missed. */
  live(pushed: boolean): void;
  /** The store would not push changes, on this connection to it. */
  refused(error: Error): void;
}

/** A store that pushes every link change to every process that listens, so caches can hold links longer. */
export interface LinkChangeFeed {
  watchLinkChanges(listener: LinkChangeListener): { close(): Promise<void> };
}

export interface Store extends MerchantStore, LinkStore, ClickSink, StatsStore, RateLimitStore, AttributionStore, Partial<LinkChangeFeed> {
  /** What /readyz reports; throws when the backing service cannot be reached. */
  ping(): Promise<void>;
  /** Whether an error means the backing service cannot take requests now (answered 503), and why; null for any other error (a bug). */
  outage(error: unknown): StoreOutage | null;
  close(): Promise<void>;
}
