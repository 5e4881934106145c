/**
 * Counters live in UTC buckets: hours for fine queries, days so a 400-day query reads 400 buckets
 * rather than 9,600. Names sort in time order and say their size ('h2026112509', 'd20261125').
 */
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function dayBucket(ms: number): string {
  const d = new Date(ms);
  return `d${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

export function hourBucket(ms: number): string {
  const d = new Date(ms);
  return `h${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
}

/** The minute a tap falls in, as a number: the flood rule counts taps per visitor, link and minute. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The buckets a query over [fromMs, toMs) reads: hours for an hourly answer, whole UTC days
 * otherwise. A range that starts or ends inside a bucket takes that whole bucket.
 */
export function bucketsCovering(fromMs: number, toMs: number, size: 'hour' | 'day'): string[] {
  const step = size === 'hour' ? HOUR_MS : DAY_MS;
  const name = size === 'hour' ? hourBucket : dayBucket;
  const buckets: string[] = [];
  for (let at = Math.floor(fromMs / step) * step; at < toMs; at += step) buckets.push(name(at));
  return buckets;
}

/** When a bucket starts, as an ISO date-time. */
export function bucketStart(bucket: string): string {
  const hour = bucket.startsWith('h') ? bucket.slice(9, 11) : '00';
  return `${bucket.slice(1, 5)}-${bucket.slice(5, 7)}-${bucket.slice(7, 9)}T${hour}:00:00.000Z`;
}
