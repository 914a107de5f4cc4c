import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../src/db/bar-history.ts';
import { isMarketOpen } from '../../src/domain/market-calendar.ts';
import { graphqlOk, startTestApp, type TestApp } from '../helpers/app.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { waitFor } from '../helpers/provider-app.ts';

/** Tuesday 13:00 in New York: the session is open; the window reaches back over Monday into the weekend. */
const NOW = new Date('2026-12-08T18:00:00.000Z');
const DAY_MS = 86_400_000;

async function historySettled(app: TestApp) {
  await waitFor('the history jobs to finish', async () => {
    const counts = await app.workers!.queues.history.getJobCounts('waiting', 'active', 'prioritized');
    const { completed = 0, failed = 0 } = await app.workers!.queues.history.getJobCounts(
      'completed',
      'failed',
    );
    return completed + failed > 0 && Object.values(counts).every((n) => n === 0);
  });
}

const graphql = graphqlOk;

/**
 * The session minutes with a trade in the last `days` before NOW, up to the minute before the live one:
 * what a backfill stores a bar for (the fake's first minute of each session has no trade).
 */
function tradedMinutes(days: number): number {
  const start = NOW.getTime() - days * DAY_MS;
  const end = Math.floor(NOW.getTime() / 60_000) * 60_000 - 60_000;
  let traded = 0;
  for (let t = Math.ceil(start / 60_000) * 60_000; t < end; t += 60_000) {
    if (
      isMarketOpen(new Date(t)) &&
      !(isMarketOpen(new Date(t - 60_000)) && !isMarketOpen(new Date(t - 120_000)))
    )
      traded += 1;
  }
  return traded;
}

/** A minute-bar request as each provider's endpoint spells it: the symbol and the span asked for (ms). */
interface BarRequest {
  symbol: string;
  fromMs: number;
  toMs: number;
}

const MINUTE_BAR_ENDPOINTS = {
  // Yahoo's chart, interval=1m, regular session only, period1/period2 in Unix seconds.
  yahoo: (fake: FakeUpstream): BarRequest[] =>
    fake
      .requestsTo('yahoo')
      .filter((r) => r.query.interval === '1m')
      .map((r) => {
        expect(r.query.includePrePost).toBe('false');
        return {
          symbol: r.path.split('/')[4]!,
          fromMs: Number(r.query.period1) * 1000,
          toMs: Number(r.query.period2) * 1000,
        };
      }),
  // Polygon/Massive minute aggregates: /v2/aggs/ticker/{T}/range/1/minute/{from ms}/{to ms, inclusive}.
  polygon: (fake: FakeUpstream): BarRequest[] =>
    fake.requestsTo('polygon', /\/range\/1\/minute\//).map((r) => {
      const parts = r.path.split('/');
      return { symbol: parts[4]!, fromMs: Number(parts[8]), toMs: Number(parts[9]) + 1 };
    }),
  // Twelve Data's time_series, interval=1min, start_date/end_date as UTC "YYYY-MM-DD HH:MM:SS".
  twelvedata: (fake: FakeUpstream): BarRequest[] =>
    fake.requestsTo('twelvedata', '/time_series').map((r) => {
      expect(r.query).toMatchObject({ interval: '1min', timezone: 'UTC' });
      const ms = (text: string | undefined) => Date.parse(`${(text ?? '').replace(' ', 'T')}Z`);
      return { symbol: r.query.symbol!, fromMs: ms(r.query.start_date), toMs: ms(r.query.end_date) };
    }),
} as const;

describe.each(['yahoo', 'polygon', 'twelvedata'] as const)(
  'history from %s minute bars against the fake upstream',
  (provider) => {
    const barRequests = (fake: FakeUpstream) => MINUTE_BAR_ENDPOINTS[provider](fake);
    let fake: FakeUpstream;
    let app: TestApp;
    let client: pg.Client;

    beforeAll(async () => {
      fake = await startFakeUpstream();
      app = await startTestApp({
        env: fake.env(provider, {
          BACKFILL_DAYS: '3',
          SYMBOLS: 'AAPL,MSFT',
          PRICE_INTERVAL_MS: '60000',
          // The manual clock stands still, so a budget's window would never refill: none here.
          PROVIDER_BUDGET: 'off',
        }),
        start: NOW,
      });
      client = new pg.Client({ connectionString: app.database.url });
      await client.connect();
    });
    afterAll(async () => {
      await client?.end();
      await app?.stop();
      await fake?.close();
    });

    it('stores a bar for every traded session minute of the window, apart from observed ticks', async () => {
      await historySettled(app);
      const expected = tradedMinutes(3);
      const counts = await client.query<{ stock_name: string; n: number }>(
        `select stock_name, count(*)::int as n from stock_bars where provider = $1 group by 1 order by 1`,
        [provider],
      );
      expect(counts.rows).toEqual([
        { stock_name: 'AAPL', n: expected },
        { stock_name: 'MSFT', n: expected },
      ]);
      // No bar became a tick: stock_prices holds only what the price job observed (one quote per ticker).
      const ticks = await client.query<{ n: number }>('select count(*)::int as n from stock_prices');
      expect(ticks.rows[0]!.n).toBeLessThanOrEqual(2);
      // Asked a day at most at a time, minute bars of the session only, and never for the closed weekend.
      const asked = barRequests(fake);
      expect(asked.length).toBeGreaterThan(0);
      for (const request of asked) {
        expect(request.toMs - request.fromMs).toBeLessThanOrEqual(DAY_MS);
        expect(new Date(request.fromMs).getUTCDay()).not.toBe(6);
      }
    });

    it('serves them in GraphQL with open, high, low, close and volume', async () => {
      const { priceBars } = await graphql<{
        priceBars: {
          intervalS: number;
          times: number[];
          open: number[];
          high: number[];
          low: number[];
          close: number[];
          volume: (number | null)[];
        };
      }>(
        app,
        `{ priceBars(ticker: "AAPL", from: "${new Date(NOW.getTime() - 3 * DAY_MS).toISOString()}") { intervalS times open high low close volume } }`,
      );
      expect(priceBars.intervalS).toBe(60);
      // Monday's whole session and Tuesday's first three and a half hours.
      expect(priceBars.times.length).toBeGreaterThan(389 + 200);
      for (let i = 0; i < priceBars.times.length; i++) {
        expect(priceBars.low[i]!).toBeLessThanOrEqual(Math.min(priceBars.open[i]!, priceBars.close[i]!));
        expect(priceBars.high[i]!).toBeGreaterThanOrEqual(Math.max(priceBars.open[i]!, priceBars.close[i]!));
        expect(priceBars.volume[i]).toBeGreaterThanOrEqual(1000);
      }
    });

    it('merges them per pixel column for a chart (barHistory), each merged bar true to the bars in it', async () => {
      const from = new Date(NOW.getTime() - 3 * DAY_MS);
      const query = `query($from: DateTime, $width: Int) {
        priceBars(ticker: "AAPL", from: $from) { times ends open high low close volume }
        barHistory(tickers: ["AAPL", "NOBARS"], from: $from, width: $width) {
          ticker times ends open high low close volume columnMs
        }
      }`;
      const { priceBars: raw, barHistory } = await graphql<{
        priceBars: Omit<BarSeries, 'ticker' | 'columnMs'>;
        barHistory: BarSeries[];
      }>(app, query, { from: from.toISOString(), width: 50 });
      // A ticker without bars is left out rather than answered empty.
      expect(barHistory.map((s) => s.ticker)).toEqual(['AAPL']);
      const merged = barHistory[0]!;
      expect(merged.times.length).toBeGreaterThan(0);
      expect(merged.times.length).toBeLessThanOrEqual(50);
      expect(merged.columnMs).toBeCloseTo((3 * DAY_MS) / 50, 0);
      // Every stored bar lies in exactly one merged bar, which opens with its first, closes with its last,
      // spans their highs and lows and sums their volume.
      let covered = 0;
      merged.times.forEach((start, i) => {
        const inside = raw.times.flatMap((t, j) => (t >= start && t < merged.ends[i]! ? [j] : []));
        expect(inside.length, `column ${i}`).toBeGreaterThan(0);
        covered += inside.length;
        expect(merged.open[i]).toBe(raw.open[inside[0]!]);
        expect(merged.close[i]).toBe(raw.close[inside[inside.length - 1]!]);
        expect(merged.high[i]).toBe(Math.max(...inside.map((j) => raw.high[j]!)));
        expect(merged.low[i]).toBe(Math.min(...inside.map((j) => raw.low[j]!)));
        expect(merged.volume[i]).toBe(inside.reduce((sum, j) => sum + raw.volume[j]!, 0));
        expect(merged.ends[i]).toBe(raw.ends[inside[inside.length - 1]!]);
      });
      expect(covered).toBe(raw.times.length);
      await expect(graphql(app, query, { from: from.toISOString(), width: 5 })).rejects.toThrow(
        /width: wanted a whole number of pixels from 10 to 5000, got 5/,
      );
    });

    it('repairs a session hour that lost its bars, and asks nothing when none is missing', async () => {
      const before = barRequests(fake).length;
      const hour = Date.parse('2026-12-07T16:00:00.000Z');
      await client.query(`delete from stock_bars where stock_name = 'MSFT' and start >= $1 and start < $2`, [
        new Date(hour),
        new Date(hour + 3_600_000),
      ]);
      await app.workers!.queues.history.add('plan', { days: 3 });
      await historySettled(app);
      expect(barRequests(fake).slice(before)).toEqual([
        { symbol: 'MSFT', fromMs: hour, toMs: hour + 3_600_000 },
      ]);
      const restored = await client.query<{ n: number }>(
        `select count(*)::int as n from stock_bars where stock_name = 'MSFT' and start >= $1 and start < $2`,
        [new Date(hour), new Date(hour + 3_600_000)],
      );
      expect(restored.rows[0]!.n).toBe(60);
    });
  },
);

describe('history with Finnhub: candles are paid-only, so nothing is filled and GraphQL says why', () => {
  let fake: FakeUpstream;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    app = await startTestApp({
      env: fake.env('finnhub', { BACKFILL_DAYS: '3', SYMBOLS: 'AAPL' }),
      start: NOW,
    });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it('fills nothing, asks for no candles, and says so', async () => {
    await historySettled(app);
    const { historyFill } = await graphql<{ historyFill: { filling: boolean; unavailable: string | null } }>(
      app,
      '{ historyFill { filling unavailable } }',
    );
    expect(historyFill.filling).toBe(false);
    expect(historyFill.unavailable).toMatch(/paid plans only/);
    expect(fake.requestsTo('finnhub', /candle/)).toEqual([]);
  });
});

describe('history from Alpha Vantage intraday, where the plan serves it', () => {
  let fake: FakeUpstream;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeUpstream({ alphaVantagePlan: 'premium' });
    const env = { BACKFILL_DAYS: '3', SYMBOLS: 'AAPL', PROVIDER_BUDGET: 'off', PRICE_INTERVAL_MS: '60000' };
    app = await startTestApp({ env: fake.env('alphavantage', env), start: NOW });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it('stores a bar for every traded session minute, its New York times read as instants', async () => {
    await historySettled(app);
    const stored = await app.deps.database.pool.query<{ n: number; first: Date }>(
      `select count(*)::int as n, min(start) as first from stock_bars where stock_name = 'AAPL' and provider = 'alphavantage'`,
    );
    expect(stored.rows[0]!.n).toBe(tradedMinutes(3));
    // Monday's session opens the window: 09:30 New York time is 14:30 UTC in December.
    expect(stored.rows[0]!.first.toISOString()).toBe('2026-12-07T14:30:00.000Z');
    const asked = fake.requestsTo('alphavantage').filter((r) => r.query.function === 'TIME_SERIES_INTRADAY');
    expect(asked.length).toBeGreaterThan(0);
    for (const request of asked) {
      expect(request.query).toMatchObject({ interval: '1min', month: '2026-12', extended_hours: 'false' });
    }
  });
});

describe('history from Alpha Vantage on a free key: the intraday series is premium-only', () => {
  let fake: FakeUpstream;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    app = await startTestApp({
      env: fake.env('alphavantage', { BACKFILL_DAYS: '3', SYMBOLS: 'AAPL,MSFT', PROVIDER_BUDGET: 'off' }),
      start: NOW,
    });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  const intradayRequests = () =>
    fake.requestsTo('alphavantage').filter((r) => r.query.function === 'TIME_SERIES_INTRADAY').length;

  it('fills nothing, says so in the progress, and asks no more for a day', async () => {
    await historySettled(app);
    const { historyFill } = await graphql<{
      historyFill: { filling: boolean; percent: number; unavailable: string | null };
    }>(app, '{ historyFill { filling percent unavailable } }');
    expect(historyFill).toMatchObject({ filling: false, percent: 100 });
    expect(historyFill.unavailable).toMatch(/TIME_SERIES_INTRADAY is premium-only on this plan/);
    const { rows } = await app.deps.database.pool.query<{ n: number }>(
      'select count(*)::int as n from stock_bars',
    );
    expect(rows[0]!.n).toBe(0);
    // Once refused, the fills still queued asked nothing: at most the ones already in flight did.
    const asked = intradayRequests();
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThan(4);
    // Remembered for 24 hours (in Redis, for every worker): a new plan asks nothing.
    const ttl = await app.deps.redis.pttl(`${app.prefix}:history:refused`);
    expect(ttl).toBeGreaterThan(86_000_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000);
    await app.workers!.queues.history.add('plan', { days: 3 });
    await historySettled(app);
    expect(intradayRequests()).toBe(asked);
    // Prices are still asked and answered: the plan's refusal of history is no fault of the provider.
    expect(await app.runPriceJob()).toMatchObject({ fetched: 2, failed: [] });
  });
});

describe('history from Yahoo further back: coarser intervals by age', () => {
  let fake: FakeUpstream;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeUpstream({ now: () => NOW.getTime() });
    const env = {
      BACKFILL_DAYS: '65',
      RETAIN_TICKS_DAYS: '90',
      SYMBOLS: 'AAPL',
      PROVIDER_BUDGET: 'off',
      PRICE_INTERVAL_MS: '60000',
    };
    app = await startTestApp({ env: fake.env('yahoo', env), start: NOW });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it('asks minutes for 30 days, then 5 minutes, then hours, and never a minute Yahoo would refuse', async () => {
    await historySettled(app);
    const asked = fake
      .requestsTo('yahoo')
      .filter((r) => r.query.period1 !== undefined)
      .map((r) => ({
        interval: r.query.interval!,
        ageDays: (NOW.getTime() / 1000 - Number(r.query.period1)) / 86_400,
      }));
    const oldest = (interval: string) =>
      Math.max(...asked.filter((r) => r.interval === interval).map((r) => r.ageDays));
    const newest = (interval: string) =>
      Math.min(...asked.filter((r) => r.interval === interval).map((r) => r.ageDays));
    expect(new Set(asked.map((r) => r.interval))).toEqual(new Set(['1m', '5m', '1h']));
    expect(oldest('1m')).toBeLessThanOrEqual(29);
    expect(newest('5m')).toBeGreaterThan(29);
    expect(oldest('5m')).toBeLessThanOrEqual(59);
    expect(newest('1h')).toBeGreaterThan(59);
    // Stored with their own length, the coarser the older, each within its session.
    const { rows } = await app.deps.database.pool.query<{
      interval_s: number;
      n: number;
      first: Date;
      last: Date;
    }>(
      `select interval_s, count(*)::int as n, min(start) as first, max(start) as last
       from stock_bars where stock_name = 'AAPL' group by 1 order by 1`,
    );
    expect(rows.map((r) => r.interval_s)).toEqual([60, 300, 3600]);
    expect(rows[2]!.last.getTime()).toBeLessThan(rows[1]!.first.getTime());
    expect(rows[1]!.last.getTime()).toBeLessThan(rows[0]!.first.getTime());
    const { rows: outside } = await app.deps.database.pool.query<{ start: Date }>(
      'select start from stock_bars where stock_name = $1',
      ['AAPL'],
    );
    for (const { start } of outside) expect(isMarketOpen(start), start.toISOString()).toBe(true);
  });

  it('is refused, as Yahoo does, a minute request older than 30 days (422 "Unprocessable Entity")', async () => {
    const period1 = Math.floor(NOW.getTime() / 1000) - 40 * 86_400;
    const response = await fetch(
      `${fake.env('yahoo').YAHOO_BASE_URL}/v8/finance/chart/AAPL?interval=1m&period1=${period1}&period2=${period1 + 86_400}`,
      { headers: { 'user-agent': 'Mozilla/5.0' } },
    );
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      chart: { result: null, error: { code: 'Unprocessable Entity' } },
    });
  });
});
