/**
 * The cards say how far each price has come since the previous close: the simulated market trades around
 * the clock, so its change runs from the exchanges' last close (Stock.previousClose, basis SINCE_CLOSE).
 */
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { browserAvailable } from '../helpers/browser.ts';
import { graphql, openPage, type PageWatch } from './harness.ts';

describe.runIf(browserAvailable())('change since the previous close on the cards', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  let lastClose: string;
  let latest: number;

  beforeAll(async () => {
    app = await startTestApp({
      env: { BACKFILL_DAYS: '0' },
      start: new Date(Math.floor(Date.now() / 1000) * 1000),
    });
    // The start tick is stamped with its slot's own instant, which can lie after the manual clock's start
    // (by up to a second, into the next minute): the server's "now" ends every history window, so move it
    // past the tick, or a window read then misses the only observation.
    app.clock.set(new Date(Date.now() + 1000));
    const answer = await graphql<{ market: { lastClose: string }; stock: { latestPrice: number } }>(
      app,
      '{ market { lastClose } stock(ticker: "AAPL") { latestPrice } }',
    );
    lastClose = answer.market.lastClose;
    latest = answer.stock.latestPrice;
    // AAPL's price at the last close was $1.29 under the one stored at start; GE has none stored then.
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    await client.query(`insert into stock_prices (stock_name, price, time) values ('AAPL', $1, $2)`, [
      (latest - 1.29).toFixed(2),
      lastClose,
    ]);
    await client.end();
    ({ browser, page, watch } = await openPage(app));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('says "▲ +$1.29 (+x.xx%) since <day> close" on AAPL’s card, and nothing on a card without a close', async () => {
    const aapl = page.locator('[data-testid="ticker-card"][data-ticker="AAPL"]');
    const line = aapl.getByTestId('close-change');
    await line.waitFor({ state: 'visible', timeout: 30_000 });
    const day = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short' }).format(
      new Date(lastClose),
    );
    const percent = ((1.29 / Number((latest - 1.29).toFixed(2))) * 100).toFixed(2);
    expect(latest).toBeTypeOf('number');
    // a live page: the card settles once the watchlist and the history are both in
    await expect.poll(() => line.textContent()).toBe(`▲ +$1.29 (+${percent}%) since ${day} close`);
    expect(await line.getAttribute('data-direction')).toBe('up');
    await expect
      .poll(() => page.locator('[data-ticker="GE"] [data-testid="close-change"]').isHidden())
      .toBe(true);
    expect(watch.errors).toEqual([]);
  });
});
