import { describe, expect, it } from 'vitest';
import { inUsMarketSession, type PlanInput, planRequests, tickersForSlot } from './request-plan.ts';

const MINUTE = 60_000;
const free = (
  provider: string,
  max: number,
  windowMs: number,
  batching: PlanInput['batching'],
): PlanInput => ({
  provider,
  budget: { max, windowMs },
  budgetText: `${max}/${windowMs >= 86_400_000 ? 'day' : 'min'}`,
  batching,
  tickers: 6,
  wantedPriceIntervalMs: 5000,
});

describe('the request plan of each free tier, 6 tickers, 5 s wanted', () => {
  it.each([
    // provider, max, window, batching → slot, a price each every, prices / extras per counted window
    ['finnhub', 60, MINUTE, 'per-symbol', 1375, 8250, 48, 12],
    ['yahoo', 100, MINUTE, 'per-symbol', 834, 5004, 80, 20],
    ['polygon', 5, MINUTE, 'one-request', 16_500, 16_500, 4, 1],
    ['twelvedata', 8, MINUTE, 'credits', 66_000, 66_000, 6, 2],
    ['alphavantage', 25, 86_400_000, 'per-symbol', 1_376_471, 8_258_826, 17, 5],
  ] as const)('%s %i per window', (provider, max, windowMs, batching, slot, every, prices, extras) => {
    const plan = planRequests(free(provider, max, windowMs, batching));
    expect(plan.priceSlotMs).toBe(slot);
    expect(plan.priceEveryMs).toBe(every);
    expect([plan.priceMax, plan.extraMax]).toEqual([prices, extras]);
    // Never more than the provider allows in its own window, even if every slot and extra is used.
    const perProviderWindow = (plan.windowMs >= windowMs ? 1 : windowMs / plan.windowMs) * plan.max;
    expect(perProviderWindow).toBeLessThanOrEqual(max);
  });

  it('says what the plan buys in one line', () => {
    expect(planRequests(free('finnhub', 60, MINUTE, 'per-symbol')).summary).toBe(
      'finnhub, 60/min: 6 tickers, a price each every 8.3 s (one request every 1.4 s); names, logos and 52-week ranges from the 12 requests left per 66 s, one every 5.5 s at most',
    );
    expect(planRequests(free('alphavantage', 25, 86_400_000, 'per-symbol')).summary).toMatch(
      /^alphavantage, 25\/day: 6 tickers, a price each every 2\.3 h \(one request every 22\.9 min\) during the US market session; .* 5 requests left per 24 h, one every 78 min at most$/,
    );
  });

  it('counts a minute window 10 % longer and a daily allowance 10 % smaller', () => {
    expect(planRequests(free('finnhub', 60, MINUTE, 'per-symbol'))).toMatchObject({
      windowMs: 66_000,
      max: 60,
    });
    expect(planRequests(free('av', 25, 86_400_000, 'per-symbol'))).toMatchObject({
      windowMs: 86_400_000,
      max: 22,
      sessionOnly: true,
    });
  });

  it('keeps the wanted interval when the share allows it', () => {
    const plan = planRequests({ ...free('yahoo', 1000, MINUTE, 'per-symbol'), wantedPriceIntervalMs: 6000 });
    expect(plan.priceEveryMs).toBe(6000);
  });

  it('leaves names and logos at least one request even on a plan of two', () => {
    expect(planRequests(free('tiny', 2, MINUTE, 'one-request'))).toMatchObject({ priceMax: 1, extraMax: 1 });
  });

  it('splits a credit batch larger than the price share into turns', () => {
    const plan = planRequests({ ...free('twelvedata', 8, MINUTE, 'credits'), tickers: 10 });
    expect(plan.tickersPerSlot).toBe(6);
    expect(plan.priceEveryMs).toBe(2 * plan.priceSlotMs);
  });
});

describe('tickersForSlot', () => {
  const plan = { priceSlotMs: 1000, tickersPerSlot: 1 };
  const list = ['A', 'B', 'C'];

  it('takes turns through the list by slot time', () => {
    const turns = [0, 1000, 2000, 3000, 4000].map((t) => tickersForSlot(plan, list, new Date(t)));
    expect(turns).toEqual([['A'], ['B'], ['C'], ['A'], ['B']]);
  });

  it('asks for the whole list without a slot, or when it fits one request', () => {
    expect(tickersForSlot(plan, list, undefined)).toEqual(list);
    expect(tickersForSlot({ priceSlotMs: 1000, tickersPerSlot: 5 }, list, new Date(7000))).toEqual(list);
  });

  it('gives the last turn what is left of the list', () => {
    expect(tickersForSlot({ priceSlotMs: 10, tickersPerSlot: 2 }, list, new Date(10))).toEqual(['C']);
  });
});

describe('inUsMarketSession', () => {
  it.each([
    ['2026-12-04T14:29:00Z', false], // Friday 9:29 New York (EST, UTC-5)
    ['2026-12-04T14:30:00Z', true],
    ['2026-12-04T20:59:00Z', true],
    ['2026-12-04T21:00:00Z', false],
    ['2026-12-05T15:00:00Z', false], // Saturday
    ['2026-07-06T13:30:00Z', true], // Monday 9:30 in summer time (UTC-4)
  ])('%s → %s', (at, open) => {
    expect(inUsMarketSession(new Date(at))).toBe(open);
  });
});
