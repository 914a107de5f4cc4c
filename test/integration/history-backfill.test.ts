import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueHistoryPlan } from '../../jobs/history-processor.ts';
import { slotsIn } from '../../src/domain/history-gaps.ts';
import { simulatedPrice } from '../../src/domain/simulated-market.ts';
import { graphqlOk, startTestApp, type TestApp } from '../helpers/app.ts';

const TICKERS = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'];
const STEP_MS = 60_000;
const DAY_MS = 86_400_000;

interface HistoryFill {
  filling: boolean;
  percent: number;
  spansDone: number;
  spansPlanned: number;
  tickers: string[];
  unavailable: string | null;
}

describe('history: backfill at first start, for an added ticker, and gap repair (simulated market)', () => {
  let app: TestApp;
  let client: pg.Client;

  beforeAll(async () => {
    app = await startTestApp({ env: { BACKFILL_DAYS: '2', PRICE_INTERVAL_MS: String(STEP_MS) } });
    client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await app?.stop();
  });

  const graphql = <T>(query: string) => graphqlOk<T>(app, query);

  const historyFill = async () =>
    (
      await graphql<{ historyFill: HistoryFill }>(
        '{ historyFill { filling percent spansDone spansPlanned tickers unavailable } }',
      )
    ).historyFill;

  /**
   * Waits until the history queue has nothing waiting or running (the repair scheduler's next run is always
   * delayed, so delayed jobs do not count), then returns the progress.
   */
  async function settled(): Promise<HistoryFill> {
    const queue = app.workers!.queues.history;
    for (;;) {
      const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children');
      if (Object.values(counts).every((n) => n === 0)) return historyFill();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The window a plan asks for at the app's clock: BACKFILL_DAYS back, up to one step before the current slot. */
  const windowAt = (days: number) => {
    const now = app.clock.now().getTime();
    return { startMs: now - days * DAY_MS, endMs: Math.floor(now / STEP_MS) * STEP_MS - STEP_MS };
  };

  async function storedTicks(ticker: string, startMs: number, endMs: number) {
    const result = await client.query<{ ms: number; price: string }>(
      `select (extract(epoch from time) * 1000)::float8 as ms, price from stock_prices
       where stock_name = $1 and time >= $2 and time < $3 order by time`,
      [ticker, new Date(startMs), new Date(endMs)],
    );
    return result.rows.map((row) => ({ ms: Number(row.ms), price: Number(row.price) }));
  }

  it('fills the whole window of every ticker at first start with the prices the live job would have stored', async () => {
    const progress = await settled();
    expect(progress).toMatchObject({ filling: false, percent: 100, tickers: [], unavailable: null });
    const window = windowAt(2);
    for (const ticker of TICKERS) {
      const ticks = await storedTicks(ticker, window.startMs, window.endMs);
      expect(ticks).toHaveLength(slotsIn(window, STEP_MS));
      for (const tick of [ticks[0]!, ticks[1000]!, ticks.at(-1)!]) {
        expect(tick.ms % STEP_MS).toBe(0);
        expect(tick.price).toBe(simulatedPrice(app.config.provider.seed, ticker, new Date(tick.ms)));
      }
    }
    // The chart over the two days draws from the first hour on, not from the app's start.
    const { priceHistory } = await graphql<{ priceHistory: { ticker: string; times: number[] }[] }>(
      `{ priceHistory(tickers: ["AAPL"], from: "${new Date(window.startMs).toISOString()}", width: 400) { ticker times } }`,
    );
    expect(priceHistory[0]!.times[0]).toBeLessThan(window.startMs + 3_600_000);
  });

  it('heals a 10-minute outage: the repair finds the hole and fills it with the same prices', async () => {
    const window = windowAt(1);
    const holeStart = Math.floor((window.endMs - 5 * 3_600_000) / STEP_MS) * STEP_MS;
    const holeEnd = holeStart + 10 * 60_000;
    const before = await storedTicks('NVDA', holeStart, holeEnd);
    expect(before).toHaveLength(10);
    await client.query('delete from stock_prices where stock_name = $1 and time >= $2 and time < $3', [
      'NVDA',
      new Date(holeStart),
      new Date(holeEnd),
    ]);
    expect(await storedTicks('NVDA', holeStart, holeEnd)).toHaveLength(0);

    await queueHistoryPlan(app.workers!.queues.history, { days: 1 });
    await settled();
    expect(await storedTicks('NVDA', holeStart, holeEnd)).toEqual(before);
  });

  it('fills a ticker added later, and says how far it has come', async () => {
    const { addToWatchlist } = await graphql<{ addToWatchlist: { ticker: string } }>(
      'mutation { addToWatchlist(ticker: "MSFT") { ticker } }',
    );
    expect(addToWatchlist.ticker).toBe('MSFT');
    const progress = await settled();
    expect(progress.percent).toBe(100);
    const window = windowAt(2);
    expect(await storedTicks('MSFT', window.startMs, window.endMs)).toHaveLength(slotsIn(window, STEP_MS));
  });
});
