import { describe, expect, it } from 'vitest';
import { HanglinkError } from '../../src/domain/errors.js';
import { checkCurrency, formatAmount, MAX_AMOUNT_MINOR, parseAmount } from '../../src/domain/money.js';

function refusal(run: () => unknown): HanglinkError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HanglinkError);
    return error as HanglinkError;
  }
  throw new Error('expected a HanglinkError, but nothing was thrown');
}

describe('parseAmount', () => {
  it('reads numbers in currency units as integer minor units', () => {
    expect(parseAmount(1299)).toBe(129_900);
    expect(parseAmount(1299.1)).toBe(129_910);
    expect(parseAmount(1299.0)).toBe(129_900);
    expect(parseAmount(0.01)).toBe(1);
    expect(parseAmount(0)).toBe(0);
    expect(parseAmount(4_800_000.01)).toBe(480_000_001);
  });

  it('reads decimal strings the same way', () => {
    expect(parseAmount('1299.00')).toBe(129_900);
    expect(parseAmount('1299.1')).toBe(129_910);
    expect(parseAmount('1299')).toBe(129_900);
    expect(parseAmount('0.05')).toBe(5);
  });

  it('gives the exact cents for every amount from 0.00 to 999.99 written as a JSON number', () => {
    for (let cents = 0; cents < 100_000; cents++) {
      const written = JSON.parse(`${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`) as number;
      if (parseAmount(written) !== cents) expect.fail(`${written} read as ${parseAmount(written)}, not ${cents}`);
    }
  });

  it('refuses float artefacts and third decimals instead of rounding them away', () => {
    for (const value of [0.1 + 0.2, 1.005, 1299.001, 0.0000001, '1.005', '0.001']) {
      const error = refusal(() => parseAmount(value));
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-amount' });
      expect(error.extra).toEqual({ field: 'amount' });
    }
  });

  it('refuses negatives, non-finite numbers and anything that is not a plain decimal', () => {
    const bad = [-1, -0.01, '-1', '-0.01', NaN, Infinity, -Infinity, '', ' 12', '12 ', '1,299.00', '1299.', '.5', '1e3', '0x10', 'abc', null, undefined, true, {}, [12]];
    for (const value of bad) {
      expect(refusal(() => parseAmount(value)), String(value)).toMatchObject({ kind: 'invalid', code: 'invalid-amount' });
    }
  });

  it('accepts up to 10^12 minor units and refuses a cent more', () => {
    expect(parseAmount(10_000_000_000)).toBe(MAX_AMOUNT_MINOR);
    expect(parseAmount('10000000000.00')).toBe(MAX_AMOUNT_MINOR);
    expect(MAX_AMOUNT_MINOR).toBe(10 ** 12);
    for (const value of [10_000_000_000.01, '10000000000.01', 1e21, '99999999999999999999999']) {
      expect(refusal(() => parseAmount(value)), String(value)).toMatchObject({ code: 'invalid-amount' });
    }
  });

  it('names the field it was given in the refusal', () => {
    const error = refusal(() => parseAmount(-5, 'spend'));
    expect(error.extra).toEqual({ field: 'spend' });
    expect(error.detail).toContain('spend');
  });
});

describe('formatAmount', () => {
  it('shows minor units as currency units', () => {
    expect(formatAmount(129_910)).toBe(1299.1);
    expect(formatAmount(129_900)).toBe(1299);
    expect(formatAmount(1)).toBe(0.01);
    expect(formatAmount(0)).toBe(0);
    expect(formatAmount(-129_910)).toBe(-1299.1);
  });

  it('prints every cent amount as its 2-decimal text, free of float artefacts', () => {
    for (let cents = 0; cents < 100_000; cents++) {
      const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
      if (formatAmount(cents) !== Number(text)) expect.fail(`${cents} shown as ${formatAmount(cents)}, not ${text}`);
    }
    expect(JSON.stringify({ gmv: formatAmount(10 + 20) })).toBe('{"gmv":0.3}');
  });

  it('reads back what parseAmount read', () => {
    expect(parseAmount(formatAmount(480_000_001))).toBe(480_000_001);
  });
});

describe('checkCurrency', () => {
  it("accepts the merchant's own currency", () => {
    expect(() => checkCurrency('CNY', 'CNY')).not.toThrow();
  });

  it("refuses another currency, naming the merchant's", () => {
    const error = refusal(() => checkCurrency('USD', 'CNY'));
    expect(error).toMatchObject({ kind: 'invalid', code: 'currency-mismatch' });
    expect(error.detail).toContain('CNY');
    expect(error.extra).toEqual({ field: 'currency', expected: 'CNY' });
  });

  it('refuses what is not an ISO 4217 code before comparing', () => {
    for (const value of ['cny', 'CN', 'CNYY', 'C1Y', '', 156, null, undefined]) {
      expect(refusal(() => checkCurrency(value, 'CNY')), String(value)).toMatchObject({ kind: 'invalid', code: 'invalid-currency' });
    }
  });
});
