import { addCounters, type Counters, emptyCounters, funnelFigures } from '../domain/funnel.js';
import { checkQuerySize, type StatsQuery } from '../domain/stats-query.js';
import { bucketsCovering, bucketStart } from '../domain/time-buckets.js';
import type { AttributionStore, GroupCounters, StatsStore } from '../store/types.js';

function countersOf(stored: Partial<Record<string, number>> | undefined): Counters {
  const c = emptyCounters();
  if (stored === undefined) return c;
  for (const name of Object.keys(c) as (keyof Counters)[]) c[name] = stored[name] ?? 0;
  return c;
}

/**
 * Spend is set per campaign and UTC day, or as a campaign total. A day's spend belongs to that
 * day (and to a total whose range holds it); a campaign total only to 'total' answers. Hourly
 * answers carry no spend: nobody spends by the hour.
 */
function spendPerInterval(periods: Map<string, number>, query: StatsQuery, dayBuckets: readonly string[]): Map<string, number> {
  const spend = new Map<string, number>();
  if (query.interval === 'hour') return spend;
  for (const [period, amount] of periods) {
    if (query.interval === 'total' && (period === 'total' || dayBuckets.includes(period))) {
      spend.set('total', (spend.get('total') ?? 0) + amount);
    } else if (query.interval === 'day' && dayBuckets.includes(period)) {
      spend.set(period, amount);
    }
  }
  return spend;
}

/**
 * The funnel per group and interval, folded from hour or day buckets: its cost depends on the
 * range and the number of groups, never on how many clicks there were.
 */
export async function funnelReport(store: StatsStore & AttributionStore, merchantId: string, query: StatsQuery) {
  const buckets = bucketsCovering(query.fromMs, query.toMs, query.interval === 'hour' ? 'hour' : 'day');
  const intervals = query.interval === 'total' ? ['total'] : buckets;
  checkQuerySize(await store.countGroups(merchantId, query.groupBy), buckets.length);
  const counted = await store.readCounters(merchantId, query.groupBy, buckets);
  const spendByGroup = new Map<string, Map<string, number>>();
  if (query.groupBy === 'campaign' || query.groupBy === 'merchant') {
    for (const [campaign, periods] of await store.readSpend(merchantId)) {
      const group = query.groupBy === 'campaign' ? campaign : merchantId;
      const totals = spendByGroup.get(group) ?? new Map<string, number>();
      for (const [interval, amount] of spendPerInterval(periods, query, buckets)) totals.set(interval, (totals.get(interval) ?? 0) + amount);
      spendByGroup.set(group, totals);
    }
  }

  const groupIds = [...new Set([...counted.keys(), ...spendByGroup.keys()])].sort();
  const groups = groupIds.map((id) => {
    const perBucket: GroupCounters = counted.get(id) ?? new Map();
    const rows = new Map<string, Counters>(intervals.map((interval) => [interval, emptyCounters()]));
    for (const bucket of buckets) {
      const interval = query.interval === 'total' ? 'total' : bucket;
      rows.set(interval, addCounters(rows.get(interval) as Counters, countersOf(perBucket.get(bucket))));
    }
    for (const [interval, amount] of spendByGroup.get(id) ?? []) {
      const row = rows.get(interval);
      if (row !== undefined) row.spendMinor += amount;
    }
    return {
      // Links without a campaign are grouped under campaign null.
      id: id === '' ? null : id,
      intervals: intervals.map((interval) => ({
        start: interval === 'total' ? new Date(query.fromMs).toISOString() : bucketStart(interval),
        ...funnelFigures(rows.get(interval) as Counters),
      })),
    };
  });
  return {
    groupBy: query.groupBy,
    interval: query.interval,
    from: new Date(query.fromMs).toISOString(),
    to: new Date(query.toMs).toISOString(),
    groups,
  };
}
