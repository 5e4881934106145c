import { checkAttribution, checkOrderReport } from '../domain/conversion.js';
import { HanglinkError, invalid } from '../domain/errors.js';
import type { Merchant } from '../domain/merchant.js';
import { formatAmount, parseAmount } from '../domain/money.js';
import type { AttributionStore, Order } from '../store/types.js';

export interface ConversionDeps {
  store: AttributionStore;
  attributionWindowMs: number;
  now: () => number;
}

export interface ConversionRequest {
  clickId: string;
  orderId: string;
  amount: number | string;
  currency: string;
  newCustomer: boolean;
  occurredAt?: string | undefined;
}

/** An order as the API shows it. */
export function orderView(order: Order) {
  return {
    orderId: order.orderId,
    clickId: order.clickId,
    linkCode: order.origin.linkCode,
    noteId: order.origin.noteId,
    campaignId: order.origin.campaignId,
    amount: formatAmount(order.amountMinor),
    refunded: formatAmount(order.refundedMinor),
    currency: order.currency,
    newCustomer: order.newCustomer,
    occurredAt: new Date(order.occurredAt).toISOString(),
  };
}

export async function recordConversion(deps: ConversionDeps, merchant: Merchant, request: ConversionRequest) {
  const nowMs = deps.now();
  const amountMinor = parseAmount(request.amount);
  const occurredAtMs = request.occurredAt === undefined ? nowMs : Date.parse(request.occurredAt);
  const input = { ...request, amountMinor, occurredAtMs };
  checkOrderReport(input, merchant.currency, nowMs);
  // A store retrying a report gets the same answer however late it retries: once its click has left
  // the window, or has been forgotten, the order it already reported is still a duplicate.
  const known = await deps.store.findOrder(merchant.id, request.orderId);
  if (known !== null) return { duplicate: true, order: known };
  const origin = await deps.store.clickOrigin(request.clickId);
  // Another merchant's click is, to this merchant, no click at all.
  const own = origin !== null && origin.merchantId === merchant.id ? origin : null;
  checkAttribution(input, own, deps.attributionWindowMs);
  const order: Order = {
    merchantId: merchant.id,
    orderId: request.orderId,
    clickId: request.clickId,
    origin: own as NonNullable<typeof own>,
    amountMinor,
    currency: request.currency,
    newCustomer: request.newCustomer,
    occurredAt: occurredAtMs,
    refundedMinor: 0,
  };
  const result = await deps.store.recordOrder(order);
  return result.outcome === 'recorded' ? { duplicate: false, order } : { duplicate: true, order: result.order };
}

export async function refundConversion(deps: ConversionDeps, merchant: Merchant, orderId: string, amount: number | string | undefined) {
  const amountMinor = amount === undefined ? null : parseAmount(amount);
  if (amountMinor === 0) {
    throw invalid('invalid-amount', 'amount must be more than 0; leave it out to refund all that is left of the order.', { field: 'amount' });
  }
  const result = await deps.store.refundOrder(merchant.id, orderId, amountMinor);
  if (result.outcome === 'unknown-order') {
    throw new HanglinkError('not_found', 'unknown-order', 'Not found', 'No order with that orderId was reported.', { field: 'orderId' });
  }
  if (result.outcome === 'exceeds-remaining') {
    throw new HanglinkError('conflict', 'refund-exceeds-order', 'Refund too large', `At most ${formatAmount(result.remainingMinor)} of this order is left to refund.`, {
      field: 'amount',
      remaining: formatAmount(result.remainingMinor),
    });
  }
  return result.order;
}
