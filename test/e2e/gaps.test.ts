/**
 * An outage is a gap on the chart, not a straight line across it: where a line's points lie further apart
 * than its usual spacing, the line breaks (issue 16, honest axes).
 */
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser.ts';
import { openPage, type PageWatch, type SeededApp, startSeededApp } from './harness.ts';

const MINUTE_MS = 60_000;

describe.runIf(browserAvailable())('gaps in the chart', () => {
  let app: SeededApp;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  const outage = { from: Date.now() - 40 * MINUTE_MS, to: Date.now() - 30 * MINUTE_MS };

  beforeAll(async () => {
    app = await startSeededApp();
    // Ten minutes of AAPL's ticks never came (the provider was away): the other tickers have theirs.
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    const { rowCount } = await client.query(
      `delete from stock_prices where stock_name = 'AAPL' and time > $1 and time < $2`,
      [new Date(outage.from), new Date(outage.to)],
    );
    await client.end();
    expect(rowCount).toBeGreaterThan(100);
    ({ browser, page, watch } = await openPage(app));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /**
   * How many separate runs the ticker's line is drawn in, as ApexCharts parsed it (`lines()`: with a week
   * of points it paints on a canvas, with no path to read): a run is two or more points in a row, and a
   * null is a break.
   */
  const runsOf = (ticker: string) =>
    page.evaluate((name) => {
      const line = window.__stockstreamer?.lines()?.lines.find((l) => l.name === name);
      let runs = 0;
      let length = 0;
      for (const [, value] of [...(line?.points ?? []), [0, null] as const]) {
        if (value !== null) length++;
        else {
          if (length >= 2) runs++;
          length = 0;
        }
      }
      return runs;
    }, ticker);

  it('breaks the line of the ticker whose ticks stopped, and only there', async () => {
    await page.getByRole('radio', { name: '1H', exact: true }).check();
    await expect.poll(() => page.evaluate(() => window.__stockstreamer?.view().range)).toBe('1h');
    // polled together: until the hour's finer history is merged, the coarser 7-day points fill the window
    await expect.poll(async () => [await runsOf('AAPL'), await runsOf('GE')]).toEqual([2, 1]);
    // the page holds nothing inside the outage (the break is not covering points it has)
    const inside = await page.evaluate(
      ([from, to]: readonly [number, number]) => window.__stockstreamer!.pointTimes('AAPL', from, to),
      [outage.from + 5_000, outage.to - 5_000] as const,
    );
    expect(inside).toEqual([]);
    expect(watch.errors).toEqual([]);
  });

  it('the 7-day range, where ten minutes are under two pixels, draws the line whole', async () => {
    await page.getByRole('radio', { name: '7D', exact: true }).check();
    await expect.poll(() => page.evaluate(() => window.__stockstreamer?.view().range)).toBe('7d');
    await expect.poll(() => runsOf('AAPL')).toBe(1);
  });
});
