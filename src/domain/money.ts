import { invalid } from './errors.js';

/*
 * Money is held in integer minor units (fen, cents) from the moment it is parsed: sums of
 * integers stay exact where sums of decimal floats drift. Only what a merchant reads is in units.
 */

/** 10 billion units: far past any one order, and small enough that sums of many stay exact in a double. */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

const DECIMAL = /^(\d+)(?:\.(\d{1,2}))?$/;

function decimalText(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) {
    // String() gives the shortest text that reads back as the same double, so 1299.1 stays "1299.1"
    // while 0.1 + 0.2 shows as "0.30000000000000004" and is refused instead of silently rounded.
    return String(value);
  }
  throw invalid('invalid-amount', `${field} must be a finite number or a decimal string.`, { field });
}

/** Reads an amount given in currency units (1299.1 or "1299.10") as integer minor units (129910). */
export function parseAmount(value: unknown, field = 'amount'): number {
  const match = DECIMAL.exec(decimalText(value, field));
  if (match === null) {
    throw invalid('invalid-amount', `${field} must be 0 or more, with at most 2 decimals (like 1299.00).`, { field });
  }
  const [, units = '', cents = ''] = match;
  const minor = Number(units) * 100 + Number(cents.padEnd(2, '0'));
  if (minor > MAX_AMOUNT_MINOR) {
    throw invalid('invalid-amount', `${field} must be at most ${formatAmount(MAX_AMOUNT_MINOR)}.`, { field });
  }
  return minor;
}

/** Minor units as currency units (129910 -> 1299.1); the division is exact to the cent, so no float artefacts show. */
export function formatAmount(minor: number): number {
  return minor / 100;
}

/** Amounts are summed per merchant, and sums across currencies mean nothing, so only the merchant's own is taken. */
export function checkCurrency(currency: unknown, merchantCurrency: string): asserts currency is string {
  if (typeof currency !== 'string' || !CURRENCY_PATTERN.test(currency)) {
    throw invalid('invalid-currency', 'currency must be an ISO 4217 code of 3 capital letters, like CNY.', { field: 'currency' });
  }
  if (currency !== merchantCurrency) {
    throw invalid('currency-mismatch', `currency must be ${merchantCurrency}, the currency this merchant uses.`, {
      field: 'currency',
      expected: merchantCurrency,
    });
  }
}
