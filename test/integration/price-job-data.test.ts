import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/**
 * Price jobs whose data was written by hand, as Bull Board's "add job" writes it (issue 11: it stored AAPL at
 * 0.01 and a ticker EVIL at −5). Real BullMQ jobs on the app's own prices queue, processed by its workers,
 * against real Postgres: what fails a provider answer's checks is refused with its reason, the rest stored.
 */
describe('price jobs with hand-crafted data', () => {
  let app: TestApp;
  let db: pg.Client;

  beforeAll(async () => {
    app = await startTestApp({ env: { SYMBOLS: 'GE,AAPL' } });
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await app?.stop();
  });

  async function rowsAt(time: Date) {
    const result = await db.query(
      'select stock_name, price::float8 as price from stock_prices where time = $1 order by stock_name',
      [time],
    );
    return result.rows as { stock_name: string; price: number }[];
  }

  it('stores the valid quotes and refuses each invalid one with its reason', async () => {
    app.clock.advance(60_000);
    const now = app.clock.now();
    const time = now.toISOString();
    const result = await app.runPriceJob({
      quotes: [
        { ticker: 'GE', price: 171.25, time },
        { ticker: 'EVIL', price: -5, time },
        { ticker: 'NFLX', price: 500, time },
        { ticker: 'AAPL', price: -5, time },
        { ticker: 'AAPL', price: 0, time },
        { ticker: 'AAPL', price: null, time },
        { ticker: 'AAPL', price: '190.5', time },
        { ticker: 'AAPL', price: 1e12, time },
        { ticker: 'AAPL', price: 190, time: '1970-01-01T00:00:00.000Z' },
        { ticker: 'AAPL', price: 190, time: new Date(now.getTime() + 7 * 86_400_000).toISOString() },
        { ticker: 'AAPL', price: 190, time: 'yesterday' },
        { ticker: "AAPL'; DROP TABLE stock_prices;--", price: 190, time },
        'AAPL 190',
      ],
    });
    expect(await rowsAt(now)).toEqual([{ stock_name: 'GE', price: 171.25 }]);
    expect(result.stored).toBe(1);
    const reasons = result.failed.map((f) => `${f.symbol}: ${f.error}`);
    expect(reasons).toEqual([
      expect.stringMatching(/^EVIL: price: wanted a price above zero, got -5$/),
      'NFLX: ticker: not on the watchlist (or not fetched from this provider)',
      expect.stringMatching(/^AAPL: price: wanted a price above zero, got -5$/),
      expect.stringMatching(/^AAPL: price: wanted a price above zero, got 0$/),
      expect.stringMatching(/^AAPL: price: wanted a number, got null$/),
      expect.stringMatching(/^AAPL: price: wanted a number, got "190.5"$/),
      expect.stringMatching(/^AAPL: price: wanted a price up to \$10,000,000, got 1000000000000$/),
      'AAPL: time: wanted a trade time from 2000 to a day from now, got 1970-01-01T00:00:00.000Z',
      expect.stringMatching(/^AAPL: time: wanted a trade time from 2000 to a day from now/),
      expect.stringMatching(/^AAPL: time: wanted an ISO-8601 time with a zone, got "yesterday"$/),
      expect.stringMatching(/^AAPL'; DROP TABLE st: ticker: wanted a ticker such as AAPL, got "AAPL'/),
      '(no ticker): quote: wanted an object { ticker, price, time }, got "AAPL 190"',
    ]);
    const logs = await app.workers!.queues.prices.getJobLogs((await lastJobId())!);
    expect(logs.logs).toContain('refused EVIL: price: wanted a price above zero, got -5');
  });

  async function lastJobId() {
    const [job] = await app.workers!.queues.prices.getJobs(['completed', 'failed'], 0, 0, false);
    return job?.id;
  }

  it('fails a job with nothing usable in its data at once, without retries, saying why', async () => {
    app.clock.advance(60_000);
    const now = app.clock.now();
    await expect(
      app.runPriceJob({ quotes: [{ ticker: 'EVIL', price: 1, time: now.toISOString() }] }),
    ).rejects.toThrow(/job data refused: EVIL: ticker: not on the watchlist/);
    const job = await app.workers!.queues.prices.getJob((await lastJobId())!);
    expect(job?.attemptsMade).toBe(1);
    await expect(app.runPriceJob({ quotes: 'AAPL at 0.01' })).rejects.toThrow(
      /quotes: wanted a list of \{ ticker, price, time \}/,
    );
    expect(await rowsAt(now)).toEqual([]);
  });

  it('fetches only watched tickers named in `pending`', async () => {
    app.clock.advance(60_000);
    const result = await app.runPriceJob({ pending: ['EVIL', 'AAPL'] });
    expect(result.failed).toEqual([{ symbol: 'EVIL', error: 'pending: not a watched ticker' }]);
    expect(result.fetched).toBe(1);
    const stored = await db.query("select count(*)::int as n from stock_prices where stock_name = 'EVIL'");
    expect(stored.rows[0].n).toBe(0);
    await expect(app.runPriceJob({ pending: ['EVIL'] })).rejects.toThrow(
      /EVIL: pending: not a watched ticker/,
    );
  });
});
