import { formatAmount } from './money.js';

/** What is counted per link and hour; any coarser view is a sum of these. Money is in minor units. */
export interface Counters {
  impressions: number;
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  suspectClicks: number;
  orders: number;
  gmvMinor: number;
  newCustomers: number;
  spendMinor: number;
}

/** The funnel as a merchant reads it: money in currency units, and null wherever a ratio has no denominator. */
export interface FunnelFigures {
  impressions: number;
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  /** Taps past the flood limit: redirected, but neither clicks nor unique clicks. */
  suspectClicks: number;
  /** clicks / impressions */
  ctr: number | null;
  orders: number;
  gmv: number;
  newCustomers: number;
  /** orders / uniqueClicks */
  conversionRate: number | null;
  spend: number;
  /** spend / newCustomers, in currency units */
  costPerNewCustomer: number | null;
  /** gmv / spend */
  roi: number | null;
}

export function emptyCounters(): Counters {
  return { impressions: 0, clicks: 0, uniqueClicks: 0, botClicks: 0, suspectClicks: 0, orders: 0, gmvMinor: 0, newCustomers: 0, spendMinor: 0 };
}

export function addCounters(a: Counters, b: Counters): Counters {
  return {
    impressions: a.impressions + b.impressions,
    clicks: a.clicks + b.clicks,
    uniqueClicks: a.uniqueClicks + b.uniqueClicks,
    botClicks: a.botClicks + b.botClicks,
    suspectClicks: a.suspectClicks + b.suspectClicks,
    orders: a.orders + b.orders,
    gmvMinor: a.gmvMinor + b.gmvMinor,
    newCustomers: a.newCustomers + b.newCustomers,
    spendMinor: a.spendMinor + b.spendMinor,
  };
}

// Only a positive denominator means anything: zero would give Infinity or NaN, and an hour holding
// refunds of earlier orders can count fewer than zero new customers.
//
// Ratios keep 6 significant digits. Digits past that sit below any decision a merchant takes and are
// mostly float noise, and significant digits (not fixed decimals) keep a CTR of 0.0000012 from reading 0.
function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Number((numerator / denominator).toPrecision(6)) : null;
}

export function funnelFigures(c: Counters): FunnelFigures {
  return {
    impressions: c.impressions,
    clicks: c.clicks,
    uniqueClicks: c.uniqueClicks,
    botClicks: c.botClicks,
    suspectClicks: c.suspectClicks,
    ctr: ratio(c.clicks, c.impressions),
    orders: c.orders,
    gmv: formatAmount(c.gmvMinor),
    newCustomers: c.newCustomers,
    conversionRate: ratio(c.orders, c.uniqueClicks),
    spend: formatAmount(c.spendMinor),
    // A cost is money, so it is rounded to the cent (half up) like every other amount shown.
    costPerNewCustomer: c.newCustomers > 0 ? formatAmount(Math.round(c.spendMinor / c.newCustomers)) : null,
    roi: ratio(c.gmvMinor, c.spendMinor),
  };
}
