import { describe, expect, it } from 'vitest';
import { simulatedCompany, simulatedFiftyTwoWeekRange, simulatedPrice } from './simulated-market.ts';

const at = new Date('2026-11-30T15:00:00Z');

describe('simulatedPrice', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(simulatedPrice('s1', 'AAPL', at)).toBe(simulatedPrice('s1', 'AAPL', at));
    expect(simulatedPrice('s1', 'AAPL', at)).not.toBe(simulatedPrice('s2', 'AAPL', at));
  });

  it('is the same within a second and rounded to cents', () => {
    const a = simulatedPrice('s', 'NVDA', new Date('2026-11-30T15:00:00.100Z'));
    const b = simulatedPrice('s', 'NVDA', new Date('2026-11-30T15:00:00.900Z'));
    expect(a).toBe(b);
    expect(Math.round(a * 100) / 100).toBe(a);
  });

  it.each(['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'])('keeps %s near its realistic level', (ticker) => {
    const anchor = simulatedCompany(ticker).anchorPrice;
    for (const seed of ['a', 'b', 'c', 'd', 'e']) {
      const price = simulatedPrice(seed, ticker, at);
      // After 11 months at 25–50 % volatility, prices stay within a few standard deviations of the anchor.
      expect(price).toBeGreaterThan(anchor / 5);
      expect(price).toBeLessThan(anchor * 5);
    }
  });

  it('moves like a market: small 5-second steps, not constant', () => {
    let changes = 0;
    let previous = simulatedPrice('s', 'AAPL', at);
    for (let i = 1; i <= 200; i++) {
      const price = simulatedPrice('s', 'AAPL', new Date(at.getTime() + i * 5000));
      if (price !== previous) changes++;
      expect(Math.abs(price / previous - 1)).toBeLessThan(0.01);
      previous = price;
    }
    expect(changes).toBeGreaterThan(100);
  });

  it('derives plausible parameters for tickers it does not know', () => {
    const company = simulatedCompany('ZZZ');
    expect(company.name).toContain('ZZZ');
    expect(company.anchorPrice).toBeGreaterThanOrEqual(10);
    expect(company.anchorPrice).toBeLessThanOrEqual(500);
  });
});

describe('simulatedFiftyTwoWeekRange', () => {
  it('contains the current price and 4-hourly prices of the past year', () => {
    const { high, low } = simulatedFiftyTwoWeekRange('s', 'INTC', at);
    const now = simulatedPrice('s', 'INTC', at);
    expect(low).toBeLessThanOrEqual(now);
    expect(high).toBeGreaterThanOrEqual(now);
    expect(high).toBeGreaterThan(low);
    const halfYearAgo = simulatedPrice('s', 'INTC', new Date(Date.UTC(2026, 5, 1, 12)));
    expect(halfYearAgo).toBeGreaterThanOrEqual(low);
    expect(halfYearAgo).toBeLessThanOrEqual(high);
  });
});
