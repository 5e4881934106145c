import { describe, expect, it } from 'vitest';
import { CapEstimate } from '../../src/domain/cap-estimate.js';

const MINUTE_START = Date.parse('2026-03-01T10:00:00.000Z');
const PHONE = 'Mozilla/5.0 (iPhone)';

describe('CapEstimate', () => {
  it('counts a visitor’s taps on a link towards the cap up to the flood limit of a minute, and none past it', () => {
    const estimate = new CapEstimate(3);
    const counted = Array.from({ length: 5 }, (_, i) => estimate.countsTowardsCap('code-a', '203.0.113.0/24', PHONE, MINUTE_START + i * 1000));
    expect(counted).toEqual([true, true, true, false, false]);
  });

  it('keeps visitors and links apart: another network, user agent or link has a limit of its own', () => {
    const estimate = new CapEstimate(1);
    expect(estimate.countsTowardsCap('code-a', '203.0.113.0/24', PHONE, MINUTE_START)).toBe(true);
    expect(estimate.countsTowardsCap('code-a', '203.0.113.0/24', PHONE, MINUTE_START)).toBe(false);
    expect(estimate.countsTowardsCap('code-a', '198.51.100.0/24', PHONE, MINUTE_START)).toBe(true);
    expect(estimate.countsTowardsCap('code-a', '203.0.113.0/24', 'Mozilla/5.0 (Linux; Android 14)', MINUTE_START)).toBe(true);
    expect(estimate.countsTowardsCap('code-b', '203.0.113.0/24', PHONE, MINUTE_START)).toBe(true);
  });

  it('starts afresh with each calendar minute, as the store’s flood rule does', () => {
    const estimate = new CapEstimate(1);
    expect(estimate.countsTowardsCap('code-a', '203.0.113.0/24', PHONE, MINUTE_START + 59_999)).toBe(true);
    expect(estimate.countsTowardsCap('code-a', '203.0.113.0/24', PHONE, MINUTE_START + 59_999)).toBe(false);
    expect(estimate.countsTowardsCap('code-a', '203.0.113.0/24', PHONE, MINUTE_START + 60_000)).toBe(true);
  });

  it('holds at most maxVisitors a minute: past that, a new visitor’s taps all count', () => {
    const estimate = new CapEstimate(1, 2);
    expect(estimate.countsTowardsCap('code-a', '10.0.1.0/24', PHONE, MINUTE_START)).toBe(true);
    expect(estimate.countsTowardsCap('code-a', '10.0.2.0/24', PHONE, MINUTE_START)).toBe(true);
    for (let i = 0; i < 3; i++) expect(estimate.countsTowardsCap('code-a', '10.0.3.0/24', PHONE, MINUTE_START)).toBe(true);
    expect(estimate.countsTowardsCap('code-a', '10.0.1.0/24', PHONE, MINUTE_START)).toBe(false);
  });
});
