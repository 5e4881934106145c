import { describe, expect, it } from 'vitest';
import { bucketStart, bucketsCovering, dayBucket, hourBucket } from '../../src/domain/time-buckets.js';

const NOW = Date.parse('2025-06-15T12:00:00Z');

describe('hour buckets', () => {
  it('names the UTC hour an instant falls in', () => {
    expect(hourBucket(Date.parse('2025-03-01T13:00:00.000Z'))).toBe('h2025030113');
    expect(hourBucket(Date.parse('2025-03-01T13:59:59.999Z'))).toBe('h2025030113');
    expect(hourBucket(Date.parse('2025-03-01T07:15:00+08:00'))).toBe('h2025022823');
  });

  it('lists every hour overlapping the range, taking the whole first hour and leaving to out', () => {
    const at = (iso: string) => Date.parse(iso);
    expect(bucketsCovering(at('2025-03-01T10:30:00Z'), at('2025-03-01T11:00:00Z'), 'hour')).toEqual(['h2025030110']);
    expect(bucketsCovering(at('2025-03-01T10:30:00Z'), at('2025-03-01T11:00:00.001Z'), 'hour')).toEqual(['h2025030110', 'h2025030111']);
    expect(bucketsCovering(at('2025-03-01T10:00:00Z'), at('2025-03-01T12:00:00Z'), 'hour')).toEqual(['h2025030110', 'h2025030111']);
  });

  it('crosses a month and a year boundary in UTC', () => {
    expect(bucketsCovering(Date.UTC(2025, 0, 31, 22), Date.UTC(2025, 1, 1, 2), 'hour')).toEqual(['h2025013122', 'h2025013123', 'h2025020100', 'h2025020101']);
    expect(bucketsCovering(Date.UTC(2025, 11, 31, 23), Date.UTC(2026, 0, 1, 1), 'hour')).toEqual(['h2025123123', 'h2026010100']);
  });

  it('has 24 hours on a leap day and none between 28 February and 1 March otherwise', () => {
    const leap = bucketsCovering(Date.UTC(2028, 1, 28, 23), Date.UTC(2028, 2, 1, 1), 'hour');
    expect(leap).toHaveLength(26);
    expect(leap.filter((b) => b.startsWith('h20280229'))).toHaveLength(24);
    expect(leap.at(0)).toBe('h2028022823');
    expect(leap.at(-1)).toBe('h2028030100');
    expect(bucketsCovering(Date.UTC(2027, 1, 28, 23), Date.UTC(2027, 2, 1, 1), 'hour')).toEqual(['h2027022823', 'h2027030100']);
  });

  it('knows no daylight saving: the days the clocks change in the US and Europe have 24 hours', () => {
    for (const [from, to] of [['2025-03-09', '2025-03-10'], ['2025-03-30', '2025-03-31'], ['2025-10-26', '2025-10-27']] as const) {
      const buckets = bucketsCovering(Date.parse(from), Date.parse(to), 'hour');
      expect(buckets.map((b) => b.slice(9))).toEqual(Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')));
    }
  });

  it('is empty for an empty range', () => {
    expect(bucketsCovering(NOW, NOW, 'hour')).toEqual([]);
  });
});

describe('day buckets', () => {
  it('names the UTC day an instant falls in', () => {
    expect(dayBucket(Date.parse('2028-02-29T23:59:59.999Z'))).toBe('d20280229');
    expect(dayBucket(Date.parse('2028-03-01T07:15:00+08:00'))).toBe('d20280229');
  });

  it('lists whole UTC days overlapping the range, the leap day included', () => {
    expect(bucketsCovering(Date.parse('2028-02-28T22:30:00Z'), Date.parse('2028-03-01T02:00:00Z'), 'day')).toEqual([
      'd20280228',
      'd20280229',
      'd20280301',
    ]);
  });

  it('has 400 days in a 400-day range that starts at midnight', () => {
    expect(bucketsCovering(Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1) + 400 * 86_400_000, 'day')).toHaveLength(400);
  });
});

describe('bucketStart', () => {
  it('starts an hour bucket at its hour and a day bucket at midnight UTC', () => {
    expect(bucketStart('h2028022913')).toBe('2028-02-29T13:00:00.000Z');
    expect(bucketStart('d20280229')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('reads back the start of any bucket named from a time, years before 1000 included', () => {
    for (const at of [Date.parse('2026-11-25T09:00:00Z'), Date.parse('0010-10-01T03:00:00Z'), Date.parse('0999-12-31T23:00:00Z')]) {
      const iso = new Date(at).toISOString();
      expect(bucketStart(hourBucket(at))).toBe(iso);
      expect(bucketStart(dayBucket(at))).toBe(`${iso.slice(0, 10)}T00:00:00.000Z`);
    }
  });
});
