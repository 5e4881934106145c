import { HanglinkError, invalid } from './errors.js';
import { ID_PATTERN } from './link.js';
import { checkCurrency } from './money.js';

/** An order the merchant reports against one of its clicks; the amount is already in minor units. */
export interface ConversionInput {
  clickId: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  newCustomer: boolean;
  /** ms since epoch, by the merchant's clock */
  occurredAtMs: number;
}

/** Order ids key the record that keeps an order from counting twice, so they share the other ids' alphabet. */
export const ORDER_ID_PATTERN = ID_PATTERN;

const DAY_MS = 24 * 3_600_000;

/** How long after a click an order counts and a landing verifies, unless configured otherwise. */
export const DEFAULT_ATTRIBUTION_WINDOW_DAYS = 7;
export const DEFAULT_ATTRIBUTION_WINDOW_MS = DEFAULT_ATTRIBUTION_WINDOW_DAYS * DAY_MS;

/**
 * How long a click id stays known to the stores: the attribution window, and a day more, as an order
 * placed on the window's last day may be reported the day after.
 */
export function clickLifetimeSeconds(attributionWindowMs: number): number {
  return (attributionWindowMs + DAY_MS) / 1000;
}

/** How far the merchant's clock may run ahead of ours, as for signed landings. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Vets what the report itself says: checked before anything is looked up. */
export function checkOrderReport(input: ConversionInput, merchantCurrency: string, nowMs: number): void {
  if (!ORDER_ID_PATTERN.test(input.orderId)) {
    throw invalid('invalid-order-id', 'orderId must be 1 to 128 characters from A-Z, a-z, 0-9, ".", "_", ":" and "-".', {
      field: 'orderId',
    });
  }
  checkCurrency(input.currency, merchantCurrency);
  if (input.occurredAtMs > nowMs + CLOCK_SKEW_MS) {
    throw invalid('occurred-in-future', 'occurredAt is in the future.', { field: 'occurredAt' });
  }
}

/**
 * Vets a new order against its click. `click` is null both for an unknown click id and for another
 * merchant's click, so the answer never tells a merchant that someone else's click exists.
 */
export function checkAttribution(input: ConversionInput, click: { at: number } | null, attributionWindowMs: number): void {
  if (click === null) {
    throw new HanglinkError('not_found', 'unknown-click', 'Not found', 'No click with that clickId exists.', { field: 'clickId' });
  }
  if (input.occurredAtMs < click.at) {
    throw invalid('occurred-before-click', 'occurredAt is before the click it is attributed to.', { field: 'occurredAt' });
  }
  if (input.occurredAtMs - click.at > attributionWindowMs) {
    throw invalid(
      'outside-attribution-window',
      `occurredAt is more than ${attributionWindowMs / 1000} seconds after the click, outside the attribution window.`,
      { field: 'occurredAt', windowSeconds: attributionWindowMs / 1000 },
    );
  }
}
