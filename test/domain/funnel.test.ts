import { describe, expect, it } from 'vitest';
import { addCounters, type Counters, emptyCounters, funnelFigures } from '../../src/domain/funnel.js';

const SOME: Counters = {
  impressions: 1000,
  clicks: 50,
  uniqueClicks: 40,
  botClicks: 5,
  suspectClicks: 2,
  orders: 4,
  gmvMinor: 4 * 129_910,
  newCustomers: 3,
  spendMinor: 100_000,
};

describe('funnelFigures', () => {
  it('works a small funnel out as by hand', () => {
    expect(funnelFigures(SOME)).toEqual({
      impressions: 1000,
      clicks: 50,
      uniqueClicks: 40,
      botClicks: 5,
      suspectClicks: 2,
      ctr: 0.05,
      orders: 4,
      gmv: 5196.4,
      newCustomers: 3,
      conversionRate: 0.1,
      spend: 1000,
      costPerNewCustomer: 333.33,
      roi: 5.1964,
    });
  });

  it('gives null for a ratio whose denominator is 0, and leaves the others alone', () => {
    const cases: [Partial<Counters>, string][] = [
      [{ impressions: 0 }, 'ctr'],
      [{ uniqueClicks: 0 }, 'conversionRate'],
      [{ newCustomers: 0 }, 'costPerNewCustomer'],
      [{ spendMinor: 0 }, 'roi'],
    ];
    for (const [zeroed, ratio] of cases) {
      const figures = funnelFigures({ ...SOME, ...zeroed }) as unknown as Record<string, number | null>;
      const nulls = Object.keys(figures).filter((name) => figures[name] === null);
      expect(nulls, ratio).toEqual([ratio]);
    }
  });

  it('has no Infinity or NaN anywhere, even with nothing counted', () => {
    const figures = funnelFigures(emptyCounters());
    expect(figures).toMatchObject({ ctr: null, conversionRate: null, costPerNewCustomer: null, roi: null, gmv: 0, spend: 0 });
    expect(JSON.parse(JSON.stringify(figures))).toEqual(figures);
  });

  it('gives 0, not null, for a ratio with nothing over a real denominator', () => {
    expect(funnelFigures({ ...emptyCounters(), impressions: 500, uniqueClicks: 10, spendMinor: 100 })).toMatchObject({
      ctr: 0,
      conversionRate: 0,
      roi: 0,
    });
  });

  it('gives no cost per new customer for an hour of refunds alone, whose count is negative', () => {
    const refundsOnly = { ...emptyCounters(), orders: -1, newCustomers: -1, gmvMinor: -129_910, spendMinor: 5_000 };
    expect(funnelFigures(refundsOnly)).toMatchObject({ gmv: -1299.1, costPerNewCustomer: null, roi: -25.982 });
  });

  it('keeps ratios to 6 significant digits, so small rates survive', () => {
    const thirds = funnelFigures({ ...emptyCounters(), impressions: 3, clicks: 1, uniqueClicks: 3, orders: 2 });
    expect(thirds.ctr).toBe(0.333333);
    expect(thirds.conversionRate).toBe(0.666667);
    expect(funnelFigures({ ...emptyCounters(), impressions: 10_000_000, clicks: 12 }).ctr).toBe(0.0000012);
  });

  it('rounds cost per new customer to the cent, half up', () => {
    expect(funnelFigures({ ...emptyCounters(), spendMinor: 100, newCustomers: 3 }).costPerNewCustomer).toBe(0.33);
    expect(funnelFigures({ ...emptyCounters(), spendMinor: 200, newCustomers: 3 }).costPerNewCustomer).toBe(0.67);
    expect(funnelFigures({ ...emptyCounters(), spendMinor: 1, newCustomers: 2 }).costPerNewCustomer).toBe(0.01);
  });
});

describe('the worked case: a coffee-machine brand, one quarter', () => {
  // From the article: 17,000,000 exposures, over 100,000 store visitors, 4.8 million GMV,
  // cost per new customer 3, ROI 8.07. Spend and new customers follow from the last two; the
  // new customers (~198,000) need at least as many visitors, so 250,000 of them, which is "over 100,000".
  function quarter(scale: number): Counters {
    const gmvMinor = 4_800_000_00 / scale;
    const spendMinor = Math.round(gmvMinor / 8.07);
    return {
      impressions: 17_000_000 / scale,
      clicks: 300_000 / scale,
      uniqueClicks: 250_000 / scale,
      botClicks: 9_000 / scale,
      suspectClicks: 0,
      orders: 210_000 / scale,
      gmvMinor,
      newCustomers: Math.round(spendMinor / 300),
      spendMinor,
    };
  }

  it('reproduces ROI 8.07 and cost per new customer 3.00 at full size', () => {
    const counters = quarter(1);
    expect(counters).toMatchObject({ spendMinor: 59_479_554, newCustomers: 198_265 });
    const figures = funnelFigures(counters);
    expect(figures.gmv).toBe(4_800_000);
    expect(figures.spend).toBe(594_795.54);
    expect(figures.roi?.toFixed(2)).toBe('8.07');
    expect(figures.costPerNewCustomer?.toFixed(2)).toBe('3.00');
    expect(figures.ctr).toBeCloseTo(300_000 / 17_000_000, 7);
    expect(figures.conversionRate).toBeCloseTo(210_000 / 250_000, 7);
    expect(figures.uniqueClicks).toBeGreaterThan(100_000);
  });

  it('keeps the same ratios scaled down a thousandfold, few enough to drive through HTTP', () => {
    const counters = quarter(1000);
    expect(counters).toEqual({
      impressions: 17_000,
      clicks: 300,
      uniqueClicks: 250,
      botClicks: 9,
      suspectClicks: 0,
      orders: 210,
      gmvMinor: 480_000,
      newCustomers: 198,
      spendMinor: 59_480,
    });
    const figures = funnelFigures(counters);
    expect(figures.gmv).toBe(4800);
    expect(figures.spend).toBe(594.8);
    expect(figures.roi?.toFixed(2)).toBe('8.07');
    expect(figures.costPerNewCustomer?.toFixed(2)).toBe('3.00');
    expect(figures.ctr).toBeCloseTo(300 / 17_000, 7);
    expect(figures.conversionRate).toBeCloseTo(210 / 250, 7);
  });
});

describe('addCounters', () => {
  it('adds field by field', () => {
    const a: Counters = { impressions: 1, clicks: 2, uniqueClicks: 3, botClicks: 4, suspectClicks: 9, orders: 5, gmvMinor: 6, newCustomers: 7, spendMinor: 8 };
    const b: Counters = { impressions: 10, clicks: 20, uniqueClicks: 30, botClicks: 40, suspectClicks: 90, orders: 50, gmvMinor: 60, newCustomers: 70, spendMinor: 80 };
    expect(addCounters(a, b)).toEqual({
      impressions: 11,
      clicks: 22,
      uniqueClicks: 33,
      botClicks: 44,
      suspectClicks: 99,
      orders: 55,
      gmvMinor: 66,
      newCustomers: 77,
      spendMinor: 88,
    });
  });

  it('has emptyCounters as its zero, and leaves its arguments alone', () => {
    const before = { ...SOME };
    expect(addCounters(emptyCounters(), SOME)).toEqual(SOME);
    expect(addCounters(SOME, emptyCounters())).toEqual(SOME);
    expect(SOME).toEqual(before);
  });

  it('sums money exactly where floats would drift', () => {
    const dime = { ...emptyCounters(), gmvMinor: 10 };
    const total = addCounters(addCounters(dime, { ...dime, gmvMinor: 20 }), emptyCounters());
    expect(funnelFigures(total).gmv).toBe(0.3);
  });
});
