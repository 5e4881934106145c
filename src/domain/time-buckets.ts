/**
 * Counters live in UTC buckets: hours for fine queries, days so a 400-day query reads 400 buckets
 * rather than 9,600. Names sort in time order and say their size ('h2026112509', 'd20261125').
 */
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function dayBucket(ms: number): string {
  const d = new Date(ms);
  return `d${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

export function hourBucket(ms: number): string {
  const d = new Date(ms);
  return `h${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
}

/** The minute a tap falls in, as a number: the flood rule counts taps per visitor, link and minute. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000);
}
