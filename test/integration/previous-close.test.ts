/**
 * Stock.previousClose over real GraphQL, Postgres and the calendar: which close a card's change is measured
 * from, and which stored price stands for it (a tick, or a provider bar that ended by the close).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlOk, startTestApp, type TestApp } from '../helpers/app.ts';

interface Close {
  price: number;
  time: string;
  source: 'OBSERVED' | 'BAR';
  sessionClose: string;
  basis: 'SINCE_CLOSE' | 'SESSION';
  changeOfSessionClose: string | null;
}

const QUERY = `{ watchlist { ticker previousClose { price time source sessionClose basis changeOfSessionClose } } }`;

async function closes(app: TestApp): Promise<Record<string, Close | null>> {
  const { watchlist } = await graphqlOk<{ watchlist: { ticker: string; previousClose: Close | null }[] }>(
    app,
    QUERY,
  );
  return Object.fromEntries(watchlist.map((s) => [s.ticker, s.previousClose]));
}

describe('previous close, following the exchanges (MARKET_CALENDAR=follow)', () => {
  let app: TestApp;
  let client: pg.Client;

  beforeAll(async () => {
    // Tuesday 10:00 in New York, in session.
    app = await startTestApp({
      env: { MARKET_CALENDAR: 'follow', BACKFILL_DAYS: '0' },
      start: new Date('2026-12-08T15:00:00Z'),
    });
    client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    const tick = (ticker: string, price: number, time: string) =>
      client.query('insert into stock_prices (stock_name, price, time) values ($1, $2, $3)', [
        ticker,
        price,
        time,
      ]);
    // AAPL: ticks before, at and after Monday's 16:00 close (21:00 UTC).
    await tick('AAPL', 100, '2026-12-07T20:59:55Z');
    await tick('AAPL', 101, '2026-12-07T21:00:00Z');
    await tick('AAPL', 102, '2026-12-07T21:00:05Z');
    // NVDA: an older tick, and a minute bar that ends at the close: the bar is the newer price.
    await tick('NVDA', 40, '2026-12-07T20:30:00Z');
    await client.query(
      `insert into stock_bars (stock_name, start, interval_s, open, high, low, close, volume, provider)
       values ('NVDA', '2026-12-07T20:59:00Z', 60, 49, 51, 48, 50, 1000, 'yahoo'),
              ('NVDA', '2026-12-07T21:00:00Z', 60, 52, 53, 51, 52, 1000, 'yahoo')`,
    );
    // Thursday's and Friday's closes, for the weekend.
    await tick('AAPL', 110, '2026-12-10T20:59:59Z');
    await tick('AAPL', 120, '2026-12-11T20:59:59Z');
  });
  afterAll(async () => {
    await client?.end();
    await app?.stop();
  });

  it('in session: the last price stored by the previous close, a tick or the bar that ended by it', async () => {
    const byTicker = await closes(app);
    expect(byTicker.AAPL).toEqual({
      price: 101,
      time: '2026-12-07T21:00:00.000Z',
      source: 'OBSERVED',
      sessionClose: '2026-12-07T21:00:00.000Z',
      basis: 'SINCE_CLOSE',
      changeOfSessionClose: null,
    });
    expect(byTicker.NVDA).toMatchObject({ price: 50, time: '2026-12-07T21:00:00.000Z', source: 'BAR' });
    // Nothing stored in the week before the close (the one tick at start came after it).
    expect(byTicker.GE).toBeNull();
    const { stock } = await graphqlOk<{ stock: { previousClose: Close } }>(
      app,
      '{ stock(ticker: "AAPL") { previousClose { price basis } } }',
    );
    expect(stock.previousClose).toEqual({ price: 101, basis: 'SINCE_CLOSE' });
  });

  it('at the weekend: Friday’s session against Thursday’s close', async () => {
    app.clock.set(new Date('2026-12-12T15:00:00Z'));
    expect((await closes(app)).AAPL).toEqual({
      price: 110,
      time: '2026-12-10T20:59:59.000Z',
      source: 'OBSERVED',
      sessionClose: '2026-12-10T21:00:00.000Z',
      basis: 'SESSION',
      changeOfSessionClose: '2026-12-11T21:00:00.000Z',
    });
  });
});

describe('previous close on the simulated market trading around the clock (MARKET_CALENDAR=auto)', () => {
  let app: TestApp;

  beforeAll(async () => {
    // Saturday: the simulated market still trades, so the change runs on from Friday's close.
    app = await startTestApp({ env: { BACKFILL_DAYS: '0' }, start: new Date('2026-12-12T15:00:00Z') });
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    await client.query(
      `insert into stock_prices (stock_name, price, time) values ('AAPL', 120, '2026-12-11T20:59:59Z')`,
    );
    await client.end();
  });
  afterAll(() => app?.stop());

  it('measures from the exchanges’ last close all the same', async () => {
    expect((await closes(app)).AAPL).toMatchObject({
      price: 120,
      sessionClose: '2026-12-11T21:00:00.000Z',
      basis: 'SINCE_CLOSE',
      changeOfSessionClose: null,
    });
  });
});
