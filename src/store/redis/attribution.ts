import type { Redis } from 'ioredis';
import { dayBucket, hourBucket } from '../../domain/time-buckets.js';
import { groupsOf } from '../groups.js';
import type { AttributionStore, CounterIncrement, CounterName, Order } from '../types.js';
import { clickFromFields, parseLegacyMarker, parseMarker } from './click-fields.js';
import type { RedisKeys } from './keys.js';
import type { defineScripts } from './scripts.js';

type Scripts = ReturnType<typeof defineScripts>;

// The stream is ordered by write time and a click is written shortly after its tap: reading this
// far beyond the range and filtering on the tap's own time keeps the edges exact.
const WRITE_DELAY_SLACK_MS = 60_000;

/** Orders, refunds, spend, impressions and the click export, on Redis. */
export function redisAttribution(redis: Redis, keys: RedisKeys, scripts: Scripts): AttributionStore {
  const counterKeys = (origin: CounterIncrement['origin'], at: number) =>
    groupsOf(origin).flatMap(([type, id]) => [hourBucket(at), dayBucket(at)].map((bucket) => keys.counters(origin.merchantId, type, id, bucket)));
  const groupSets = (origin: CounterIncrement['origin']) =>
    groupsOf(origin).map(([type, id]) => [keys.counterGroups(origin.merchantId, type), id] as const);

  const readOrder = async (merchantId: string, orderId: string): Promise<Order | null> => {
    const [json, refunded] = await redis.mget(keys.order(merchantId, orderId), keys.orderRefunded(merchantId, orderId));
    return json == null ? null : { ...(JSON.parse(json) as Order), refundedMinor: Number(refunded ?? 0) };
  };

  return {
    findOrder: readOrder,

    async clickOrigin(clickId) {
      const key = keys.click(clickId);
      try {
        const marker = await redis.get(key);
        return marker === null ? null : parseMarker(marker);
      } catch (error) {
        // A marker written before markers were strings is a hash, and lives out its TTL as one.
        if (!(error instanceof Error) || !error.message.startsWith('WRONGTYPE')) throw error;
        return parseLegacyMarker(await redis.hgetall(key));
      }
    },

    async recordOrder(order) {
      const pipeline = redis.pipeline();
      for (const [set, id] of groupSets(order.origin)) pipeline.sadd(set, id);
      await pipeline.exec();
      const existing = await scripts.recordOrder(
        keys.order(order.merchantId, order.orderId),
        counterKeys(order.origin, order.occurredAt),
        JSON.stringify({ ...order, refundedMinor: 0 }),
        order.amountMinor,
        order.newCustomer,
      );
      if (existing === null) return { outcome: 'recorded' };
      const stored = await readOrder(order.merchantId, order.orderId);
      return { outcome: 'duplicate', order: stored ?? (JSON.parse(existing) as Order) };
    },

    async refundOrder(merchantId, orderId, amountMinor) {
      const order = await readOrder(merchantId, orderId);
      if (order === null) return { outcome: 'unknown-order' };
      const [outcome, value] = await scripts.refundOrder(
        keys.orderRefunded(merchantId, orderId),
        counterKeys(order.origin, order.occurredAt),
        order.amountMinor,
        amountMinor,
        order.newCustomer,
      );
      if (outcome === 'exceeds-remaining') return { outcome, remainingMinor: Number(value) };
      return { outcome, order: { ...order, refundedMinor: Number(value) } };
    },

    async addCounters(increments) {
      if (increments.length === 0) return;
      const sums = new Map<string, Map<CounterName, number>>();
      const pipeline = redis.pipeline();
      for (const { origin, at, counter, by } of increments) {
        for (const key of counterKeys(origin, at)) {
          const counters = sums.get(key) ?? new Map<CounterName, number>();
          counters.set(counter, (counters.get(counter) ?? 0) + by);
          sums.set(key, counters);
        }
        for (const [set, id] of groupSets(origin)) pipeline.sadd(set, id);
      }
      for (const [key, counters] of sums) for (const [counter, by] of counters) pipeline.hincrby(key, counter, by);
      const replies = (await pipeline.exec()) ?? [];
      for (const [error] of replies) if (error !== null) throw error;
    },

    async setSpend(merchantId, campaignId, period, amountMinor) {
      const replies = (await redis
        .multi()
        .hset(keys.spend(merchantId, campaignId), period, amountMinor)
        .sadd(keys.spendCampaigns(merchantId), campaignId)
        .exec()) ?? [];
      for (const [error] of replies) if (error !== null) throw error;
    },

    async readSpend(merchantId) {
      const campaigns = await redis.smembers(keys.spendCampaigns(merchantId));
      const spend = new Map<string, Map<string, number>>();
      if (campaigns.length === 0) return spend;
      const pipeline = redis.pipeline();
      for (const campaign of campaigns) pipeline.hgetall(keys.spend(merchantId, campaign));
      const replies = (await pipeline.exec()) ?? [];
      campaigns.forEach((campaign, i) => {
        const [error, periods] = replies[i] ?? [null, {}];
        if (error !== null) throw error;
        spend.set(campaign, new Map(Object.entries(periods as Record<string, string>).map(([period, amount]) => [period, Number(amount)])));
      });
      return spend;
    },

    async readClicks(merchantId, fromMs, toMs, limit, cursor) {
      const clicks = [];
      let start = cursor === null ? String(Math.max(0, fromMs - WRITE_DELAY_SLACK_MS)) : `(${cursor}`;
      const end = String(toMs + WRITE_DELAY_SLACK_MS);
      let lastReturned: string | null = null;
      let lastRead: string | null = null;
      // Filtering on the tap's time may drop entries, so read on until the page is full and one more click
      // in range shows a next page exists, or the range ends: a cursor is given only when a click follows.
      for (;;) {
        const entries = await redis.xrange(keys.clickStream(merchantId), start, end, 'COUNT', limit + 1);
        for (const [id, fields] of entries) {
          lastRead = id;
          const click = clickFromFields(fields);
          if (click.at < fromMs || click.at >= toMs) continue;
          if (clicks.length === limit) return { clicks, nextCursor: lastReturned };
          clicks.push(click);
          lastReturned = id;
        }
        if (entries.length <= limit) return { clicks, nextCursor: null };
        start = `(${lastRead}`;
      }
    },
  };
}
