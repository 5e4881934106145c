import { invalid } from './errors.js';

export const GROUP_BYS = ['merchant', 'campaign', 'note', 'link'] as const;
export const INTERVALS = ['hour', 'day', 'total'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];
export type Interval = (typeof INTERVALS)[number];

export interface StatsQuery {
  groupBy: GroupBy;
  /** ms since epoch, inclusive */
  fromMs: number;
  /** ms since epoch, exclusive */
  toMs: number;
  interval: Interval;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_RANGE_MS = 7 * DAY_MS;

// The range bounds the buckets one query reads per group: a month of hours (744) or 400 days. A range
// reads every bucket it touches, so one that does not start and end on the hour (or UTC midnight) reads
// a bucket more than its length: the buckets are counted, not the length.
export const MAX_RANGE_DAYS: Record<Interval, number> = { hour: 31, day: 400, total: 400 };

// Bucket names and the rows' starts hold four-digit years.
const EARLIEST_MS = Date.parse('0000-01-01T00:00:00Z');
const LATEST_MS = Date.parse('+010000-01-01T00:00:00Z');
const outOfYears = (field: 'from' | 'to') => invalid('invalid-date', `${field} must fall within the years 0000 to 9999.`, { field });

// A date alone means UTC midnight; a time must carry its offset, since a bare local time names no instant.
const INSTANT =
  /^(?<date>\d{4}-\d{2}-\d{2})(?:T(?<time>\d{2}:\d{2}:\d{2})(?:\.(?<fraction>\d{1,9}))?(?:Z|(?<sign>[+-])(?<offsetHours>\d{2}):(?<offsetMinutes>\d{2})))?$/;

function parseInstant(field: 'from' | 'to', value: string): number {
  const parts = INSTANT.exec(value)?.groups;
  const refusal = () =>
    invalid('invalid-date', `${field} must be a date (YYYY-MM-DD, UTC) or an ISO 8601 date-time with an offset.`, { field });
  if (parts === undefined) throw refusal();
  const { date = '', time = '00:00:00', fraction = '', sign, offsetHours = '00', offsetMinutes = '00' } = parts;
  const wallClock = Date.parse(`${date}T${time}.${fraction.padEnd(3, '0').slice(0, 3)}Z`);
  // Date.parse rolls 2025-02-30 over to March and takes 24:00, so the text has to survive a round trip.
  if (Number.isNaN(wallClock) || new Date(wallClock).toISOString().slice(0, 19) !== `${date}T${time}`) throw refusal();
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) throw refusal();
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  const instant = sign === '-' ? wallClock + offsetMs : wallClock - offsetMs;
  if (instant < EARLIEST_MS || instant >= LATEST_MS) throw outOfYears(field);
  return instant;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, field: string, code: string): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(code, `${field} must be one of ${allowed.join(', ')}.`, { field });
  }
  return value as T;
}

// A query reads one hash per group and bucket, and answers a row per group and interval: this many at
// most (1,000 links for 50 days, or 67 links by the hour over a month), so that one query cannot hold
// Redis or the gateway for seconds.
export const MAX_BUCKETS_READ = 50_000;

/** Refuses a query that would read more than MAX_BUCKETS_READ group buckets. */
export function checkQuerySize(groups: number, bucketsPerGroup: number): void {
  if (groups * bucketsPerGroup > MAX_BUCKETS_READ) {
    throw invalid(
      'query-too-large',
      `This query reads ${groups} groups over ${bucketsPerGroup} buckets each; at most ${MAX_BUCKETS_READ.toLocaleString('en')} in all: shorten the range, ask per day rather than per hour, or group by note, campaign or merchant.`,
      { groups, buckets: bucketsPerGroup, maxBucketsRead: MAX_BUCKETS_READ },
    );
  }
}

/** Reads GET /v1/stats' query: by default the last 7 days up to now, by merchant, per day. */
export function parseStatsQuery(
  q: { groupBy?: string; from?: string; to?: string; interval?: string },
  nowMs: number,
): StatsQuery {
  const groupBy = oneOf(q.groupBy, GROUP_BYS, 'merchant', 'groupBy', 'invalid-group-by');
  const interval = oneOf(q.interval, INTERVALS, 'day', 'interval', 'invalid-interval');
  const toMs = q.to === undefined ? nowMs : parseInstant('to', q.to);
  const fromMs = q.from === undefined ? toMs - DEFAULT_RANGE_MS : parseInstant('from', q.from);
  if (fromMs < EARLIEST_MS) throw outOfYears('from');
  if (fromMs >= toMs) {
    throw invalid('invalid-range', 'from must be before to.', { field: 'from' });
  }
  const maxDays = MAX_RANGE_DAYS[interval];
  const bucketMs = interval === 'hour' ? HOUR_MS : DAY_MS;
  const bucketsRead = (Math.ceil(toMs / bucketMs) - Math.floor(fromMs / bucketMs)) * bucketMs;
  if (bucketsRead > maxDays * DAY_MS) {
    const buckets = interval === 'hour' ? 'hours' : 'UTC days';
    throw invalid('range-too-long', `A range per ${interval} may span at most ${maxDays} days, counting every one of the ${buckets} it touches.`, {
      field: 'from',
      maxDays,
    });
  }
  return { groupBy, fromMs, toMs, interval };
}
