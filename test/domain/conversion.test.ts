import { describe, expect, it } from 'vitest';
import { checkAttribution, checkOrderReport, clickLifetimeSeconds, type ConversionInput, ORDER_ID_PATTERN } from '../../src/domain/conversion.js';
import { HanglinkError } from '../../src/domain/errors.js';

const MINUTE = 60_000;
const WINDOW = 7 * 24 * 60 * MINUTE;
const CLICK = { at: Date.UTC(2025, 2, 1, 12) };
const NOW = CLICK.at + 3 * 24 * 60 * MINUTE;
const ORDER: ConversionInput = {
  clickId: 'V1StGXR8_Z5jdHi6B-myT',
  orderId: 'TB-20250301:0001',
  amountMinor: 129_900,
  currency: 'CNY',
  newCustomer: true,
  occurredAtMs: CLICK.at + 20 * MINUTE,
};

function refusal(run: () => unknown): HanglinkError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HanglinkError);
    return error as HanglinkError;
  }
  throw new Error('expected a HanglinkError, but nothing was thrown');
}

// In the order the service runs them: the report itself, then (for an order not yet known) its click.
const check = (input: Partial<ConversionInput>, click: { at: number } | null = CLICK, nowMs = NOW) => {
  checkOrderReport({ ...ORDER, ...input }, 'CNY', nowMs);
  checkAttribution({ ...ORDER, ...input }, click, WINDOW);
};

describe('checkOrderReport, then checkAttribution', () => {
  it('takes an order placed after its click, inside the window, in the merchant’s currency', () => {
    expect(() => check({})).not.toThrow();
  });

  it('takes an order from the click’s own instant to the last instant of the window', () => {
    expect(() => check({ occurredAtMs: CLICK.at })).not.toThrow();
    expect(() => check({ occurredAtMs: CLICK.at + WINDOW }, CLICK, CLICK.at + WINDOW)).not.toThrow();
  });

  it('refuses a click it does not know as not found, the same for another merchant’s click', () => {
    const error = refusal(() => check({}, null));
    expect(error).toMatchObject({ kind: 'not_found', code: 'unknown-click' });
    expect(error.extra).toEqual({ field: 'clickId' });
    expect(error.detail).not.toContain(ORDER.clickId);
  });

  it('refuses an order placed before its click', () => {
    const error = refusal(() => check({ occurredAtMs: CLICK.at - 1 }));
    expect(error).toMatchObject({ kind: 'invalid', code: 'occurred-before-click' });
    expect(error.extra).toEqual({ field: 'occurredAt' });
  });

  it('refuses an order placed after the attribution window closed', () => {
    const error = refusal(() => check({ occurredAtMs: CLICK.at + WINDOW + 1 }, CLICK, CLICK.at + WINDOW + MINUTE));
    expect(error).toMatchObject({ kind: 'invalid', code: 'outside-attribution-window' });
    expect(error.extra).toEqual({ field: 'occurredAt', windowSeconds: 7 * 24 * 3600 });
  });

  it('tolerates a merchant clock up to 5 minutes ahead, and refuses an order further in the future', () => {
    expect(() => check({ occurredAtMs: NOW + 5 * MINUTE })).not.toThrow();
    expect(refusal(() => check({ occurredAtMs: NOW + 5 * MINUTE + 1 }))).toMatchObject({ kind: 'invalid', code: 'occurred-in-future' });
  });

  it('refuses an amount in a currency the merchant does not use', () => {
    const error = refusal(() => check({ currency: 'USD' }));
    expect(error).toMatchObject({ kind: 'invalid', code: 'currency-mismatch' });
    expect(error.detail).toContain('CNY');
  });

  it('refuses a malformed request as such even when the click is unknown too', () => {
    expect(refusal(() => check({ currency: 'USD' }, null))).toMatchObject({ code: 'currency-mismatch' });
    expect(refusal(() => check({ orderId: 'no spaces' }, null))).toMatchObject({ code: 'invalid-order-id' });
  });

  it('refuses order ids outside 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"', () => {
    for (const orderId of ['', 'x'.repeat(129), 'a b', 'ORD/1', 'ORD?1', '订单1', 'ord\n1']) {
      const error = refusal(() => check({ orderId }));
      expect(error, orderId).toMatchObject({ kind: 'invalid', code: 'invalid-order-id' });
      expect(error.extra).toEqual({ field: 'orderId' });
    }
    for (const orderId of ['1', 'x'.repeat(128), 'TB.2025_03:01-Z9']) {
      expect(() => check({ orderId }), orderId).not.toThrow();
      expect(ORDER_ID_PATTERN.test(orderId)).toBe(true);
    }
  });
});

describe('clickLifetimeSeconds', () => {
  it('keeps a click known for the attribution window and a day more', () => {
    const DAY_MS = 24 * 3_600_000;
    expect(clickLifetimeSeconds(7 * DAY_MS)).toBe(8 * 24 * 3600);
    expect(clickLifetimeSeconds(90 * DAY_MS)).toBe(91 * 24 * 3600);
  });
});
