import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CandleSeries } from '../../src/db/candles.ts';
import { createTickRepository } from '../../src/db/tick-repository.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { graphqlOk, startTestApp, type TestApp } from '../helpers/app.ts';

const START = Date.UTC(2026, 10, 23, 14, 0, 0);
const MINUTE = 60_000;
const HOURS = 3;

/** Ticks every 5 s for three hours, prices a known function of the index. */
function ticks(ticker: string, base: number): Tick[] {
  return Array.from({ length: (HOURS * 3_600_000) / 5000 }, (_, i) => ({
    ticker,
    price: base + ((i * 7) % 13) / 4 + Math.floor(i / 500),
    time: new Date(START + i * 5000),
  }));
}

/** The candles expected of `stored`, computed here from the ticks themselves. */
function expectedCandles(stored: Tick[], widthMs: number) {
  const groups = new Map<number, Tick[]>();
  for (const tick of stored) {
    const start = Math.floor(tick.time.getTime() / widthMs) * widthMs;
    groups.set(start, [...(groups.get(start) ?? []), tick]);
  }
  const starts = [...groups.keys()];
  const prices = [...groups.values()].map((group) => group.map((t) => t.price));
  return {
    times: starts,
    open: prices.map((p) => p[0]),
    high: prices.map((p) => Math.max(...p)),
    low: prices.map((p) => Math.min(...p)),
    close: prices.map((p) => p.at(-1)),
    ticks: prices.map((p) => p.length),
    // no provider bars here, and observed ticks carry no volume
    volume: prices.map(() => null),
  };
}

interface Answer {
  /** As the API answers: the interval by name where the repository says its seconds. */
  data?: { candles: (Omit<CandleSeries, 'intervalS'> & { interval: string })[] };
  errors?: { message: string }[];
}

describe('candles(tickers, interval, from, to, width) from the minute rollup', () => {
  let app: TestApp;
  const aapl = ticks('AAPL', 200);
  const intc = ticks('INTC', 30);
  const window = {
    from: new Date(START).toISOString(),
    to: new Date(START + HOURS * 3_600_000).toISOString(),
  };

  async function candles(args: string): Promise<Answer> {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ candles(${args}) { ticker interval times open high low close ticks volume } }`,
      }),
    });
    return (await response.json()) as Answer;
  }

  beforeAll(async () => {
    app = await startTestApp({ role: 'api' });
    const repo = createTickRepository(app.deps.database.db);
    await repo.insertTicks([...aapl, ...intc]);
    await repo.foldRollup(new Date(START + 10 * 3_600_000));
  });
  afterAll(() => app?.stop());

  it.each([
    ['M1', MINUTE],
    ['M5', 5 * MINUTE],
    ['M15', 15 * MINUTE],
    ['H1', 60 * MINUTE],
  ])('every %s candle is the ticks’ open, high, low and close', async (interval, widthMs) => {
    const answer = await candles(
      `tickers: ["AAPL", "INTC"], interval: ${interval}, from: "${window.from}", to: "${window.to}"`,
    );
    expect(answer.errors).toBeUndefined();
    const [a, i] = answer.data!.candles;
    expect(a!.ticker).toBe('AAPL');
    expect(a!.interval).toBe(interval);
    const { ticker: _a, interval: _ai, ...aCandles } = a!;
    expect(aCandles).toEqual(expectedCandles(aapl, widthMs));
    const { ticker: _i, interval: _ii, ...iCandles } = i!;
    expect(iCandles).toEqual(expectedCandles(intc, widthMs));
  });

  it('answers no more candles than the chart is wide: a coarser interval, and says which', async () => {
    // three hours of minutes is 180 candles; 100 px take at most 100: five-minute candles
    const answer = await candles(
      `tickers: ["AAPL"], interval: M1, from: "${window.from}", to: "${window.to}", width: 100`,
    );
    expect(answer.data!.candles[0]!.interval).toBe('M5');
    expect(answer.data!.candles[0]!.times).toHaveLength(36);
  });

  it('leaves out a ticker without prices, and refuses a bad interval or window with what is wanted', async () => {
    const none = await candles(`tickers: ["MSFT"], from: "${window.from}", to: "${window.to}"`);
    expect(none.data!.candles).toEqual([]);
    const badInterval = await candles(`tickers: ["AAPL"], interval: M2`);
    expect(badInterval.errors![0]!.message).toMatch(/M2/);
    const tooLong = await candles(
      `tickers: ["AAPL"], from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z"`,
    );
    expect(tooLong.errors![0]!.message).toContain('at most 366 days');
    const badTicker = await candles(`tickers: ["a'; drop table stock_prices; --"]`);
    expect(badTicker.errors![0]!.message).toMatch(/^tickers: /);
  });

  it('makes candles of provider bars where no tick was observed, and sums their volume only where it is whole', async () => {
    // INTC: bars for the hour before the ticks (bars alone), and for the ticks' first 10 minutes at
    // 14:00 (a candle of ticks whose minutes the bars span) and 14:15–14:20 (spanning only part of that
    // candle's minutes: its volume stays unknown rather than shown too small)
    const HOUR = 60 * MINUTE;
    const bar = (startMs: number, volume: number | null) =>
      `('INTC', '${new Date(startMs).toISOString()}', 60, 10, 12, 9, 11, ${volume ?? 'null'}, 'test')`;
    const before = Array.from({ length: 60 }, (_, i) => bar(START - HOUR + i * MINUTE, 100 + i));
    const within = Array.from({ length: 15 }, (_, i) => bar(START + i * MINUTE, 1000));
    const partly = Array.from({ length: 5 }, (_, i) => bar(START + 15 * MINUTE + i * MINUTE, 7));
    await app.deps.database.pool.query(
      `insert into stock_bars (stock_name, start, interval_s, open, high, low, close, volume, provider)
       values ${[...before, ...within, ...partly].join(', ')}`,
    );
    const answer = await candles(
      `tickers: ["INTC"], interval: M15, from: "${new Date(START - HOUR).toISOString()}", to: "${window.to}"`,
    );
    expect(answer.errors).toBeUndefined();
    const [intc] = answer.data!.candles;
    const observed = expectedCandles(ticks('INTC', 30), 15 * MINUTE);
    // four candles of bars alone: their OHLC are the bars', and ticks 0 says nothing was observed
    expect(intc!.times.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => START - HOUR + i * 15 * MINUTE));
    expect(intc!.ticks.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(intc!.open.slice(0, 4)).toEqual([10, 10, 10, 10]);
    expect(intc!.high[0]).toBe(12);
    expect(intc!.low[0]).toBe(9);
    expect(intc!.volume.slice(0, 4)).toEqual(
      [0, 1, 2, 3].map((q) => Array.from({ length: 15 }, (_, i) => 100 + q * 15 + i).reduce((a, b) => a + b)),
    );
    // the observed candles keep the ticks' prices, whatever the bars say
    expect(intc!.times.slice(4)).toEqual(observed.times);
    expect(intc!.open.slice(4)).toEqual(observed.open);
    expect(intc!.close.slice(4)).toEqual(observed.close);
    expect(intc!.ticks.slice(4)).toEqual(observed.ticks);
    expect(intc!.volume[4]).toBe(15 * 1000);
    expect(intc!.volume[5]).toBeNull();
    expect(intc!.volume.slice(6).every((v) => v === null)).toBe(true);
  });
});

describe('candles of minutes the rollup has not folded yet', () => {
  let app: TestApp;
  const start = START + 86_400_000;
  const early = ticks('NVDA', 100).slice(0, 60); // 14:00–14:05, folded
  const late = ticks('NVDA', 100)
    .slice(60, 120)
    .map((tick) => ({ ...tick, time: new Date(tick.time.getTime() + 86_400_000) }));
  const folded = early.map((tick) => ({ ...tick, time: new Date(tick.time.getTime() + 86_400_000) }));
  const window = { from: new Date(start).toISOString(), to: new Date(start + 10 * MINUTE).toISOString() };

  beforeAll(async () => {
    app = await startTestApp({ role: 'api' });
    const repo = createTickRepository(app.deps.database.db);
    await repo.insertTicks(folded);
    await repo.foldRollup(new Date(start + 5 * MINUTE));
    await repo.insertTicks(late); // logged, not folded: the newest minutes
  });
  afterAll(() => app?.stop());

  async function m1(): Promise<Omit<CandleSeries, 'intervalS' | 'ticker'>> {
    const data = await graphqlOk<{ candles: Omit<CandleSeries, 'intervalS' | 'ticker'>[] }>(
      app,
      `{ candles(tickers: ["NVDA"], interval: M1, from: "${window.from}", to: "${window.to}") { times open high low close ticks volume } }`,
    );
    return data.candles[0]!;
  }

  it('makes them from the ticks, corrections included, and answers the same once they are folded', async () => {
    const pool = app.deps.database.pool;
    const rolled = await pool.query(
      `select count(*)::int as n from stock_prices_1m where stock_name = 'NVDA'`,
    );
    expect(rolled.rows[0].n).toBe(5); // the test's premise: half the window is only in the log
    // a corrected price in a folded minute: logged, so its candle is remade from the ticks too
    const corrected = folded[30]!;
    await pool.query(`update stock_prices set price = 999 where stock_name = 'NVDA' and time = $1`, [
      corrected.time.toISOString(),
    ]);
    const stored = [...folded, ...late].map((tick) => (tick === corrected ? { ...tick, price: 999 } : tick));
    const expected = expectedCandles(stored, MINUTE);
    expect(await m1()).toEqual(expected);

    // the CSV export of 1m candles reads the same minutes
    const csv = await (
      await fetch(`${app.url}/export/prices.csv?tickers=NVDA&from=${window.from}&to=${window.to}&interval=1m`)
    ).text();
    const rows = csv.trim().split('\n').slice(1);
    expect(rows).toHaveLength(10);
    expect(rows[2]).toContain(',999');

    await createTickRepository(app.deps.database.db).foldRollup('all');
    expect(await m1()).toEqual(expected);
  });
});
