import { describe, expect, it } from 'vitest';
import { HanglinkError } from '../../src/domain/errors.js';
import { checkQuerySize, parseStatsQuery } from '../../src/domain/stats-query.js';
import { bucketsCovering } from '../../src/domain/time-buckets.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2025, 2, 15, 10, 30);

function refusal(run: () => unknown): HanglinkError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HanglinkError);
    return error as HanglinkError;
  }
  throw new Error('expected a HanglinkError, but nothing was thrown');
}

describe('parseStatsQuery', () => {
  it('defaults to the last 7 days up to now, by merchant, per day', () => {
    expect(parseStatsQuery({}, NOW)).toEqual({ groupBy: 'merchant', fromMs: NOW - 7 * DAY, toMs: NOW, interval: 'day' });
  });

  it('ends at now when only from is given, and starts 7 days before to when only to is given', () => {
    expect(parseStatsQuery({ from: '2025-03-10' }, NOW)).toMatchObject({ fromMs: Date.UTC(2025, 2, 10), toMs: NOW });
    expect(parseStatsQuery({ to: '2025-03-10' }, NOW)).toMatchObject({ fromMs: Date.UTC(2025, 2, 3), toMs: Date.UTC(2025, 2, 10) });
  });

  it('takes every grouping and interval it documents', () => {
    for (const groupBy of ['merchant', 'campaign', 'note', 'link']) {
      expect(parseStatsQuery({ groupBy }, NOW).groupBy).toBe(groupBy);
    }
    for (const interval of ['hour', 'day', 'total']) {
      expect(parseStatsQuery({ interval }, NOW).interval).toBe(interval);
    }
  });

  it('reads a bare date as UTC midnight and a date-time at its offset', () => {
    const q = (from: string) => parseStatsQuery({ from, to: '2025-03-02' }, NOW).fromMs;
    expect(q('2025-03-01')).toBe(Date.UTC(2025, 2, 1));
    expect(q('2025-03-01T08:00:00+08:00')).toBe(Date.UTC(2025, 2, 1));
    expect(q('2025-02-28T18:30:00-05:30')).toBe(Date.UTC(2025, 2, 1));
    expect(q('2025-03-01T12:34:56.789Z')).toBe(Date.UTC(2025, 2, 1, 12, 34, 56, 789));
    expect(q('2025-03-01T12:34:56.789999Z')).toBe(Date.UTC(2025, 2, 1, 12, 34, 56, 789));
  });

  it('takes the leap day of a leap year only', () => {
    expect(parseStatsQuery({ from: '2028-02-29', to: '2028-03-01' }, NOW).fromMs).toBe(Date.UTC(2028, 1, 29));
    expect(refusal(() => parseStatsQuery({ from: '2027-02-29', to: '2027-03-01' }, NOW))).toMatchObject({ code: 'invalid-date' });
  });

  it('refuses an unknown groupBy or interval, naming the field', () => {
    for (const groupBy of ['day', 'Merchant', 'merchants', '']) {
      const error = refusal(() => parseStatsQuery({ groupBy }, NOW));
      expect(error, groupBy).toMatchObject({ kind: 'invalid', code: 'invalid-group-by' });
      expect(error.extra).toEqual({ field: 'groupBy' });
      expect(error.detail).toContain('merchant, campaign, note, link');
    }
    for (const interval of ['week', 'Hour', 'minute', '']) {
      const error = refusal(() => parseStatsQuery({ interval }, NOW));
      expect(error, interval).toMatchObject({ kind: 'invalid', code: 'invalid-interval' });
      expect(error.extra).toEqual({ field: 'interval' });
    }
  });

  it('refuses dates it cannot read exactly, naming the field', () => {
    const unreadable = [
      'yesterday',
      '',
      '1740787200000',
      '2025-3-1',
      '2025/03/01',
      '2025-02-30',
      '2025-13-01',
      '2025-03-01T00:00:00',
      '2025-03-01T12:00Z',
      '2025-03-01T24:00:00Z',
      '2025-03-01T23:60:00Z',
      '2025-03-01T23:59:60Z',
      '2025-03-01T00:00:00+24:00',
      '2025-03-01T00:00:00+08:60',
      '2025-03-01T00:00:00+0800',
      '2025-03-01 00:00:00Z',
    ];
    for (const value of unreadable) {
      const fromError = refusal(() => parseStatsQuery({ from: value, to: '2025-03-10' }, NOW));
      expect(fromError, value).toMatchObject({ kind: 'invalid', code: 'invalid-date' });
      expect(fromError.extra).toEqual({ field: 'from' });
      expect(refusal(() => parseStatsQuery({ to: value }, NOW)).extra, value).toEqual({ field: 'to' });
    }
  });

  it('refuses a from that is not before to', () => {
    for (const query of [
      { from: '2025-03-10', to: '2025-03-10' },
      { from: '2025-03-11', to: '2025-03-10' },
      { from: '2025-03-10T08:00:00+08:00', to: '2025-03-10' },
      { from: '2025-04-01' },
    ]) {
      expect(refusal(() => parseStatsQuery(query, NOW)), JSON.stringify(query)).toMatchObject({ kind: 'invalid', code: 'invalid-range' });
    }
  });

  it('takes hourly ranges of up to 31 days, which is 744 hour buckets', () => {
    const query = parseStatsQuery({ from: '2025-03-01', to: '2025-04-01', interval: 'hour' }, NOW);
    expect(query.toMs - query.fromMs).toBe(31 * DAY);
    expect(bucketsCovering(query.fromMs, query.toMs, 'hour')).toHaveLength(744);
  });

  it('refuses an hourly range of 31 days and an hour, and says the limit', () => {
    const error = refusal(() => parseStatsQuery({ from: '2025-03-01', to: '2025-04-01T01:00:00Z', interval: 'hour' }, NOW));
    expect(error).toMatchObject({ kind: 'invalid', code: 'range-too-long' });
    expect(error.extra).toMatchObject({ maxDays: 31 });
    expect(error.detail).toContain('31 days');
  });

  it('takes daily and total ranges of up to 400 days and refuses an hour more', () => {
    const from = Date.UTC(2024, 0, 1);
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const interval of ['day', 'total']) {
      expect(parseStatsQuery({ from: iso(from), to: iso(from + 400 * DAY), interval }, NOW).interval).toBe(interval);
      const error = refusal(() => parseStatsQuery({ from: iso(from), to: iso(from + 400 * DAY + HOUR), interval }, NOW));
      expect(error, interval).toMatchObject({ code: 'range-too-long', extra: { maxDays: 400 } });
    }
    expect(refusal(() => parseStatsQuery({ from: iso(from), to: iso(from + 32 * DAY), interval: 'hour' }, NOW))).toMatchObject({
      code: 'range-too-long',
    });
  });

  it('counts every bucket a range touches: one not on the hour or UTC midnight reads one more', () => {
    // 400 local days at +08:00 touch 401 UTC days; 399 of them touch 400.
    expect(refusal(() => parseStatsQuery({ from: '2025-01-01T00:00:00+08:00', to: '2026-02-05T00:00:00+08:00' }, NOW))).toMatchObject({
      code: 'range-too-long',
      extra: { maxDays: 400 },
    });
    const taken = parseStatsQuery({ from: '2025-01-01T00:00:00+08:00', to: '2026-02-04T00:00:00+08:00' }, NOW);
    expect(bucketsCovering(taken.fromMs, taken.toMs, 'day')).toHaveLength(400);
    // 31 days from half past an hour touch 745 hours.
    expect(refusal(() => parseStatsQuery({ from: '2025-03-01T00:30:00Z', to: '2025-04-01T00:30:00Z', interval: 'hour' }, NOW))).toMatchObject({
      code: 'range-too-long',
    });
  });

  it('refuses instants outside the years 0000 to 9999, whose buckets could not be named', () => {
    expect(refusal(() => parseStatsQuery({ from: '9999-12-31', to: '9999-12-31T23:00:00-05:00' }, NOW))).toMatchObject({
      code: 'invalid-date',
      extra: { field: 'to' },
    });
    // Without from, the range is the 7 days before to: here they reach back past year 0.
    expect(refusal(() => parseStatsQuery({ to: '0000-01-02' }, NOW))).toMatchObject({ code: 'invalid-date', extra: { field: 'from' } });
    expect(parseStatsQuery({ from: '0000-01-01', to: '0000-01-02' }, NOW).fromMs).toBe(Date.parse('0000-01-01T00:00:00Z'));
  });
});

describe('checkQuerySize', () => {
  it('takes a query of up to 50,000 group buckets and refuses one more, saying how to narrow it', () => {
    expect(() => checkQuerySize(1000, 50)).not.toThrow();
    expect(() => checkQuerySize(0, 744)).not.toThrow();
    const error = refusal(() => checkQuerySize(1000, 51));
    expect(error).toMatchObject({ kind: 'invalid', code: 'query-too-large', extra: { groups: 1000, buckets: 51, maxBucketsRead: 50_000 } });
    expect(error.detail).toContain('shorten the range');
  });
});
