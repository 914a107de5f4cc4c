import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createProvider } from '../../src/providers/create-provider.ts';
import {
  type BatchResult,
  type FetchOptions,
  ProviderRateLimitedError,
} from '../../src/providers/provider.ts';
import { createPlannedBudget } from '../../src/providers/request-budget.ts';
import {
  inUsMarketSession,
  planForConfig,
  type RequestPlan,
  tickersForSlot,
} from '../../src/providers/request-plan.ts';
import { type FakeProvider, FREE_TIERS, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { uniqueName, useTestRedis } from '../helpers/services.ts';
import { createVirtualTime } from '../helpers/virtual-time.ts';

/**
 * Each provider's free tier, enforced by the fake upstream (window, day and burst rules, FREE_TIERS), for
 * ten minutes of compressed time: a price scheduler taking its planned turns and the logo and 52-week jobs
 * filling in around it, through the real provider code, the real Redis budget and real HTTP. The budget
 * and the fake read the same virtual clock. What it measured is printed (the README's table).
 */
const TICKERS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GE', 'NFLX'];
const TEN_MINUTES = 600_000;
/** Thursday 10:00 in New York: the session is open. */
const START = new Date('2026-12-03T15:00:00.000Z');
const prefix = uniqueName('tiers');
const redis = useTestRedis(prefix);

interface Run {
  plan: RequestPlan;
  requests: { at: number; outcome: string; path: string }[];
  /** Per ticker, the virtual instants a price came back. */
  prices: Map<string, number[]>;
  profilesAt: number | undefined;
  rangesAt: number | undefined;
  /** How many tickers had their name and logo, and their range, when the time was up. */
  profiles: number;
  ranges: number;
}

async function simulate(name: FakeProvider, start: Date, durationMs: number): Promise<Run> {
  // Two actors: the price scheduler, and one for names and ranges (on Alpha Vantage both read one cached
  // OVERVIEW answer, so two actors would wait on each other outside the virtual clock's sight).
  const time = createVirtualTime(start, 2);
  const fake = await startFakeUpstream({ limits: { [name]: FREE_TIERS[name] }, now: time.nowMs });
  try {
    const config = loadConfig(fake.env(name, { SYMBOLS: TICKERS.join(','), PROVIDER_CONCURRENCY: '1' }));
    const provider = createProvider(config.provider, time.clock, undefined, undefined, { sleep: time.sleep });
    const plan = planForConfig(config, provider.priceBatching, TICKERS.length)!;
    const budget = createPlannedBudget(redis(), `${prefix}:${name}`, plan, time.nowMs);
    const end = start.getTime() + durationMs;
    const prices = new Map<string, number[]>(TICKERS.map((t) => [t, []]));

    const priceScheduler = async () => {
      // Slots on multiples of the slot length, as BullMQ's `every` scheduler places them.
      for (let slot = Math.ceil(time.nowMs() / plan.priceSlotMs) * plan.priceSlotMs; slot < end; ) {
        await time.sleep(slot - time.nowMs());
        if (!plan.sessionOnly || inUsMarketSession(new Date(slot))) {
          const symbols = tickersForSlot(plan, TICKERS, new Date(slot));
          const result = await provider.getQuotes(symbols, { budget, lane: 'price' }).catch(() => undefined);
          for (const quote of result?.ok ?? []) prices.get(quote.symbol)!.push(time.nowMs());
        }
        slot += plan.priceSlotMs;
      }
      time.done();
    };
    // The logo and 52-week jobs, which run side by side in the app (on Alpha Vantage both read one cached
    // OVERVIEW answer): each ticker's profile, then its range; each waits its turn and never loops on a
    // refusal, it sleeps until the time the refusal named.
    const filled = { profiles: 0, ranges: 0 };
    const done: { profilesAt?: number; rangesAt?: number } = {};
    const fetchUntilDone = async (
      symbol: string,
      fetch: (symbols: string[], options: FetchOptions) => Promise<BatchResult<unknown>>,
    ): Promise<boolean> => {
      while (time.nowMs() < end) {
        const result = await fetch([symbol], { budget, lane: 'extra', maxBudgetWaitMs: 120_000 }).catch(
          (error: Error) => ({ ok: [], failed: [{ symbol, error }] }),
        );
        if (result.ok.length > 0) return true;
        const error = result.failed[0]?.error;
        const waitMs = error instanceof ProviderRateLimitedError ? (error.retryAfterMs ?? 0) : 0;
        await time.sleep(Math.max(1000, waitMs));
      }
      return false;
    };
    const extras = async () => {
      for (const symbol of TICKERS) {
        if (!(await fetchUntilDone(symbol, (s, o) => provider.getProfiles(s, o)))) break;
        filled.profiles += 1;
        if (filled.profiles === TICKERS.length) done.profilesAt = time.nowMs();
        if (!(await fetchUntilDone(symbol, (s, o) => provider.getFiftyTwoWeekRanges(s, o)))) break;
        filled.ranges += 1;
        if (filled.ranges === TICKERS.length) done.rangesAt = time.nowMs();
      }
      time.done();
    };
    void priceScheduler();
    void extras();
    // Actors still asleep past the end are simply not woken.
    await time.run(end);
    return {
      plan,
      requests: fake.requestsTo(name).map((r) => ({ at: r.at, outcome: r.outcome, path: r.path })),
      prices,
      profilesAt: done.profilesAt,
      rangesAt: done.rangesAt,
      ...filled,
    };
  } finally {
    await fake.close();
  }
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

function filledIn(count: number, at: number | undefined, t0: number): string {
  return at === undefined
    ? `${count} of ${TICKERS.length} in 10 min`
    : `complete after ${((at - t0) / 1000).toFixed(0)} s`;
}

const report: string[] = [];
afterAll(() => {
  if (report.length > 0) process.stdout.write(`\n${report.join('\n')}\n`);
});

describe('ten minutes on each free tier', () => {
  it.each(['finnhub', 'twelvedata', 'polygon', 'yahoo'] as FakeProvider[])(
    '%s: no 429, prices on their planned cadence from the first minute, the rest filled in around them',
    async (name) => {
      const run = await simulate(name, START, TEN_MINUTES);
      console.log(JSON.stringify({ ...run, prices: [...run.prices] }).slice(0, 3000));
      const { plan } = run;
      expect(run.requests.filter((r) => r.outcome === 'limited')).toEqual([]);
      const t0 = START.getTime();
      for (const ticker of TICKERS) {
        const times = run.prices.get(ticker)!;
        // The first price within the first round, then one every round: no slot lost.
        expect(times[0]! - t0, ticker).toBeLessThanOrEqual(plan.priceEveryMs);
        expect(Math.max(...gaps(times)), ticker).toBeLessThanOrEqual(plan.priceEveryMs);
        expect(times.length, ticker).toBeGreaterThanOrEqual(Math.floor(TEN_MINUTES / plan.priceEveryMs) - 1);
      }
      // Names, logos and ranges fill in from the extra share: all of them, or (Polygon's one request a
      // minute, for a details answer and its image each) as many as that share could pay for.
      const extraRequests = Math.floor(TEN_MINUTES / plan.extraSpacingMs);
      // A ticker's name, logo and range cost three requests at most.
      expect(run.profiles + run.ranges, 'names, logos and ranges').toBeGreaterThanOrEqual(
        Math.min(2 * TICKERS.length, Math.floor(extraRequests / 3)),
      );
      report.push(
        `${name} ${plan.summary}\n  measured: ${run.requests.length} requests in 10 min, none refused; ` +
          `a price each every ${(Math.max(...TICKERS.flatMap((t) => gaps(run.prices.get(t)!))) / 1000).toFixed(1)} s at most; ` +
          `names and logos ${filledIn(run.profiles, run.profilesAt, t0)}, ranges ${filledIn(run.ranges, run.rangesAt, t0)}`,
      );
    },
    120_000,
  );

  it("alphavantage: a day's 25 spread over the session, never two in a second, no 429", async () => {
    /** Thursday 00:00 in New York, for one whole day. */
    const midnight = new Date('2026-12-03T05:00:00.000Z');
    const run = await simulate('alphavantage', midnight, 86_400_000);
    expect(run.requests.filter((r) => r.outcome === 'limited')).toEqual([]);
    expect(run.requests.length).toBeLessThanOrEqual(25);
    const quotes = run.requests.filter((r) => r.path === '/query').map((r) => r.at);
    const sessionQuotes = run.prices.get('AAPL')!.concat(...TICKERS.slice(1).map((t) => run.prices.get(t)!));
    sessionQuotes.sort((a, b) => a - b);
    // Prices only in the session, spaced evenly through it.
    for (const at of sessionQuotes) expect(inUsMarketSession(new Date(at))).toBe(true);
    expect(sessionQuotes.length).toBe(run.plan.priceMax);
    expect(Math.max(...gaps(sessionQuotes))).toBeLessThanOrEqual(run.plan.priceSlotMs);
    expect(Math.min(...gaps(quotes.sort((a, b) => a - b)))).toBeGreaterThanOrEqual(1000);
    report.push(
      `alphavantage ${run.plan.summary}\n  measured over a day: ${run.requests.length} requests, none refused; ` +
        `${sessionQuotes.length} prices from ${new Date(sessionQuotes[0]!).toISOString().slice(11, 16)} to ` +
        `${new Date(sessionQuotes.at(-1)!).toISOString().slice(11, 16)} UTC, every ${(run.plan.priceSlotMs / 60_000).toFixed(1)} min; ` +
        `names ${run.profiles} of 6, ranges ${run.ranges} of 6 within the day`,
    );
  }, 120_000);
});
