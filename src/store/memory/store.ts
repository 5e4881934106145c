import { classifyClick, type ClickPolicy, COUNTERS_BY_KIND, DEFAULT_CLICK_POLICY } from '../../domain/click.js';
import { clickLifetimeSeconds, DEFAULT_ATTRIBUTION_WINDOW_MS } from '../../domain/conversion.js';
import { dayBucket, hourBucket, minuteOf } from '../../domain/time-buckets.js';
import { ClicksOutOfOrder } from '../errors.js';
import { groupsOf } from '../groups.js';
import type { Link } from '../../domain/link.js';
import type { Merchant } from '../../domain/merchant.js';
import { codeOfMember, listingMember, liveLinks, pageOfMembers, type MemberFilter } from '../listing.js';
import type { ClassifiedClick, ClickOrigin, CounterIncrement, CounterName, GroupCounters, GroupType, Order, Store } from '../types.js';

/**
 * The store for running without Redis: one process, nothing survives a restart. It mirrors the
 * Redis store's behaviour (the contract suite runs against both), including storing values as
 * JSON so callers never share objects with the store.
 */
export interface MemoryStore extends Store {
  /** The clicks written for a merchant, oldest first: what the Redis click stream would hold. */
  recordedClicks(merchantId: string): ClassifiedClick[];
}

export interface MemoryStoreOptions {
  /** How long a click id stays known, as in the Redis store. */
  clickTtlSeconds?: number;
  clickPolicy?: ClickPolicy;
}

type Counts = Partial<Record<CounterName, number>>;

const DEFAULT_CLICK_TTL_SECONDS = clickLifetimeSeconds(DEFAULT_ATTRIBUTION_WINDOW_MS);

interface MerchantIndexes {
  all: Set<string>;
  byNote: Map<string, Set<string>>;
  byCampaign: Map<string, Set<string>>;
}

function entry<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function parse<T>(json: string | undefined): T | null {
  return json === undefined ? null : (JSON.parse(json) as T);
}

const EMPTY: ReadonlySet<string> = new Set();

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const clickTtlMs = (options.clickTtlSeconds ?? DEFAULT_CLICK_TTL_SECONDS) * 1000;
  const merchants = new Map<string, string>();
  const merchantIdByKeyHash = new Map<string, string>();
  const links = new Map<string, string>();
  const codeByExternalId = new Map<string, Map<string, string>>();
  const indexes = new Map<string, MerchantIndexes>();
  // Insertion order is write order, so the oldest markers are always at the front.
  const clickMarkers = new Map<string, { expiresAt: number; origin: ClickOrigin }>();
  const policy = options.clickPolicy ?? DEFAULT_CLICK_POLICY;
  const clickStreams = new Map<string, ClassifiedClick[]>();
  const linkClicks = new Map<string, number>();
  // Same state as the Redis store's visit keys; flood counts of past minutes are dropped as time moves on.
  const repeatWindowStart = new Map<string, number>();
  const floodTaps = new Map<string, { minute: number; taps: number }>();
  // merchant -> group type -> group id -> bucket -> counts
  const counters = new Map<string, Map<GroupType, Map<string, Map<string, Counts>>>>();
  const requestWindows = new Map<string, { window: number; count: number }>();
  const orders = new Map<string, string>();
  // Orders whose whole amount was refunded, which took them out of the figures.
  const takenOut = new Set<string>();
  const spends = new Map<string, Map<string, Map<string, number>>>();

  const getMerchant = async (id: string) => parse<Merchant>(merchants.get(id));
  const getLink = async (code: string) => parse<Link>(links.get(code));

  function count(origin: CounterIncrement['origin'], at: number, name: CounterName, by: number): void {
    for (const [type, id] of groupsOf(origin)) {
      const byBucket = entry(entry(entry(counters, origin.merchantId, () => new Map()), type, () => new Map()), id, () => new Map());
      for (const bucket of [hourBucket(at), dayBucket(at)]) {
        const counts = entry(byBucket, bucket, (): Counts => ({}));
        counts[name] = (counts[name] ?? 0) + by;
      }
    }
  }

  const orderKey = (merchantId: string, orderId: string) => `${merchantId}\n${orderId}`;
  const readOrder = (merchantId: string, orderId: string) => parse<Order>(orders.get(orderKey(merchantId, orderId)));

  // Without this the click ids of a long-running process would pile up forever.
  function forgetExpiredClicks(now: number): void {
    for (const [clickId, { expiresAt }] of clickMarkers) {
      if (expiresAt > now) return;
      clickMarkers.delete(clickId);
    }
  }

  return {
    async createMerchant(merchant, apiKeyHash) {
      merchants.set(merchant.id, JSON.stringify(merchant));
      merchantIdByKeyHash.set(apiKeyHash, merchant.id);
    },

    async merchantByKeyHash(apiKeyHash) {
      const id = merchantIdByKeyHash.get(apiKeyHash);
      return id === undefined ? null : getMerchant(id);
    },

    getMerchant,

    async setApprovedCategories(id, categories) {
      const merchant = await getMerchant(id);
      if (merchant === null) return null;
      const updated = { ...merchant, approvedCategories: [...categories] };
      merchants.set(id, JSON.stringify(updated));
      return updated;
    },

    async createLink(link) {
      const existingCode =
        link.externalId === null ? undefined : codeByExternalId.get(link.merchantId)?.get(link.externalId);
      if (existingCode !== undefined) {
        const existing = parse<Link>(links.get(existingCode));
        if (existing === null) throw new Error(`external id "${link.externalId}" maps to a missing link`);
        return { created: false, reason: 'external-id-exists', link: existing };
      }
      if (links.has(link.code)) return { created: false, reason: 'code-taken' };
      const json = JSON.stringify(link);
      links.set(link.code, json);
      if (link.externalId !== null) {
        entry(codeByExternalId, link.merchantId, () => new Map<string, string>()).set(link.externalId, link.code);
      }
      const member = listingMember(link);
      const merchantIndexes = entry(indexes, link.merchantId, (): MerchantIndexes => ({
        all: new Set(),
        byNote: new Map(),
        byCampaign: new Map(),
      }));
      merchantIndexes.all.add(member);
      entry(merchantIndexes.byNote, link.noteId, () => new Set()).add(member);
      if (link.campaignId !== null) entry(merchantIndexes.byCampaign, link.campaignId, () => new Set()).add(member);
      return { created: true, link: JSON.parse(json) as Link };
    },

    getLink,

    async saveLink(link, previous) {
      if (links.get(link.code) !== JSON.stringify(previous)) return false;
      links.set(link.code, JSON.stringify(link));
      const merchantIndexes = indexes.get(link.merchantId);
      if (link.status !== 'deleted' || merchantIndexes === undefined) return true;
      const member = listingMember(link);
      merchantIndexes.all.delete(member);
      merchantIndexes.byNote.get(link.noteId)?.delete(member);
      if (link.campaignId !== null) merchantIndexes.byCampaign.get(link.campaignId)?.delete(member);
      return true;
    },

    async listLinks(merchantId, { noteId, campaignId }, limit, cursor) {
      const merchantIndexes = indexes.get(merchantId);
      const members =
        (noteId !== undefined
          ? merchantIndexes?.byNote.get(noteId)
          : campaignId !== undefined
            ? merchantIndexes?.byCampaign.get(campaignId)
            : merchantIndexes?.all) ?? EMPTY;
      const index = {
        membersAfter: async (after: string | null, count: number) =>
          [...members]
            .filter((member) => after === null || member < after)
            .sort()
            .reverse()
            .slice(0, count),
      };
      const campaign =
        noteId !== undefined && campaignId !== undefined
          ? (merchantIndexes?.byCampaign.get(campaignId) ?? EMPTY)
          : null;
      const inCampaign: MemberFilter | null =
        campaign === null ? null : async (batch) => batch.filter((member) => campaign.has(member));
      const page = await pageOfMembers(index, inCampaign, limit, cursor);
      return {
        links: liveLinks(page.members.map((member) => parse<Link>(links.get(codeOfMember(member))))),
        nextCursor: page.nextCursor,
      };
    },

    async writeClicks(clicks, after) {
      const now = Date.now();
      forgetExpiredClicks(now);
      if (after !== undefined && !clickMarkers.has(after)) throw new ClicksOutOfOrder(after);
      for (const click of clicks) {
        if (clickMarkers.has(click.clickId)) continue;
        const { merchantId, linkCode, noteId, campaignId, at } = click;
        clickMarkers.set(click.clickId, { expiresAt: now + clickTtlMs, origin: { merchantId, linkCode, noteId, campaignId, at } });
        const visitor = `${click.linkCode}\n${click.visitorId}`;
        const minute = minuteOf(click.at);
        // As the Redis store's script: a tap written after a later one is judged by its own time, a
        // minute before the last one's neither resets nor spends that minute's count, and the window
        // start only moves forward.
        const flood = floodTaps.get(visitor);
        const earlierMinute = flood !== undefined && minute < flood.minute;
        const taps = flood !== undefined && flood.minute === minute ? flood.taps + 1 : 1;
        if (!click.bot && !earlierMinute) floodTaps.set(visitor, { minute, taps });
        const since = repeatWindowStart.get(visitor);
        const seen = since !== undefined && Math.abs(click.at - since) < policy.repeatWindowMs;
        const kind = classifyClick(click.bot, taps, seen, policy);
        if (kind === 'unique' && (since === undefined || click.at > since)) repeatWindowStart.set(visitor, click.at);
        entry(clickStreams, click.merchantId, () => []).push({ ...click, kind });
        if (kind === 'unique' || kind === 'repeat') linkClicks.set(click.linkCode, (linkClicks.get(click.linkCode) ?? 0) + 1);
        for (const name of COUNTERS_BY_KIND[kind]) count(click, click.at, name, 1);
      }
    },

    async clickCounts(codes) {
      return new Map(codes.map((code) => [code, linkClicks.get(code) ?? 0]));
    },

    async readCounters(merchantId, groupType, buckets) {
      const result = new Map<string, GroupCounters>();
      for (const [id, byBucket] of counters.get(merchantId)?.get(groupType) ?? []) {
        const picked: GroupCounters = new Map();
        for (const bucket of buckets) {
          const counts = byBucket.get(bucket);
          if (counts !== undefined) picked.set(bucket, { ...counts });
        }
        if (picked.size > 0) result.set(id, picked);
      }
      return result;
    },

    async countGroups(merchantId, groupType) {
      return counters.get(merchantId)?.get(groupType)?.size ?? 0;
    },

    recordedClicks(merchantId) {
      return (clickStreams.get(merchantId) ?? []).map((click) => ({ ...click }));
    },

    async clickOrigin(clickId) {
      const marker = clickMarkers.get(clickId);
      return marker === undefined || marker.expiresAt <= Date.now() ? null : { ...marker.origin };
    },

    async findOrder(merchantId, orderId) {
      return readOrder(merchantId, orderId);
    },

    async recordOrder(order) {
      const existing = readOrder(order.merchantId, order.orderId);
      if (existing !== null) return { outcome: 'duplicate', order: existing };
      orders.set(orderKey(order.merchantId, order.orderId), JSON.stringify({ ...order, refundedMinor: 0 }));
      count(order.origin, order.occurredAt, 'orders', 1);
      count(order.origin, order.occurredAt, 'gmvMinor', order.amountMinor);
      if (order.newCustomer) count(order.origin, order.occurredAt, 'newCustomers', 1);
      return { outcome: 'recorded' };
    },

    async refundOrder(merchantId, orderId, amountMinor) {
      const order = readOrder(merchantId, orderId);
      if (order === null) return { outcome: 'unknown-order' };
      const remainingMinor = order.amountMinor - order.refundedMinor;
      const amount = amountMinor ?? remainingMinor;
      // As the Redis store: an order of 0 is taken out by refunding its rest, 0, once.
      const takesOutFreeOrder = order.amountMinor === 0 && amount === 0 && !takenOut.has(orderKey(merchantId, orderId));
      if ((amount <= 0 && !takesOutFreeOrder) || amount > remainingMinor) return { outcome: 'exceeds-remaining', remainingMinor };
      const refunded = { ...order, refundedMinor: order.refundedMinor + amount };
      orders.set(orderKey(merchantId, orderId), JSON.stringify(refunded));
      if (amount === remainingMinor) takenOut.add(orderKey(merchantId, orderId));
      count(order.origin, order.occurredAt, 'gmvMinor', -amount);
      if (amount === remainingMinor) {
        count(order.origin, order.occurredAt, 'orders', -1);
        if (order.newCustomer) count(order.origin, order.occurredAt, 'newCustomers', -1);
      }
      return { outcome: 'refunded', order: refunded };
    },

    async addCounters(increments) {
      for (const { origin, at, counter, by } of increments) count(origin, at, counter, by);
    },

    async setSpend(merchantId, campaignId, period, amountMinor) {
      entry(entry(spends, merchantId, () => new Map()), campaignId, () => new Map()).set(period, amountMinor);
    },

    async readSpend(merchantId) {
      return new Map([...(spends.get(merchantId) ?? [])].map(([campaign, periods]) => [campaign, new Map(periods)]));
    },

    async readClicks(merchantId, fromMs, toMs, limit, cursor) {
      const stream = clickStreams.get(merchantId) ?? [];
      const clicks: ClassifiedClick[] = [];
      // The cursor is the position of the last click returned, as Redis uses the last stream id; it is
      // given only when another click in range follows.
      let last = -1;
      for (let i = cursor === null ? 0 : Number(cursor) + 1; i < stream.length; i++) {
        const click = stream[i] as ClassifiedClick;
        if (click.at < fromMs || click.at >= toMs) continue;
        if (clicks.length === limit) return { clicks, nextCursor: String(last) };
        clicks.push({ ...click });
        last = i;
      }
      return { clicks, nextCursor: null };
    },

    async countRequest(subject, window) {
      const current = requestWindows.get(subject);
      const count = current !== undefined && current.window === window ? current.count + 1 : 1;
      requestWindows.set(subject, { window, count });
      return count;
    },

    async ping() {},

    outage: () => null,

    async close() {},
  };
}
