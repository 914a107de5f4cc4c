/**
 * A live provider's history is minute bars: before the install nothing was observed, so the week the page
 * opens on is bars only, with the live ticks at its right edge. The page draws the bars' closes there, as
 * a dashed line of their own that says "provider bar" when hovered, and never over what was observed.
 */
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { browserAvailable } from '../helpers/browser.ts';
import { DAY_MS, graphql, openPage, type PageWatch } from './harness.ts';

const MINUTE = 60_000;

describe.runIf(browserAvailable())('provider bars on the chart', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  /** The live tick the app stored at start: the only observation. */
  let observedAt: number;
  /** The bars seeded where nothing was observed: three days ago to one day ago. */
  const barsFrom = Math.floor((Date.now() - 3 * DAY_MS) / MINUTE) * MINUTE;
  const barsTo = barsFrom + 2 * DAY_MS;

  beforeAll(async () => {
    app = await startTestApp({
      env: { BACKFILL_DAYS: '0' },
      start: new Date(Math.floor(Date.now() / 1000) * 1000),
    });
    // The start tick is stamped with its slot's own instant, which can lie after the manual clock's start
    // (by up to a second, into the next minute): the server's "now" ends every history window, so move it
    // past the tick, or a window read then misses the only observation.
    app.clock.set(new Date(Date.now() + 1000));
    const { stock } = await graphql<{ stock: { latestPrice: number; latestTime: string } }>(
      app,
      '{ stock(ticker: "AAPL") { latestPrice latestTime } }',
    );
    observedAt = Date.parse(stock.latestTime);
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      // Two days of minute bars around the live price, and ten minutes of them over the live tick (a
      // provider answering the minute that was also observed): those must not be drawn.
      const starts: number[] = [];
      for (let t = barsFrom; t < barsTo; t += MINUTE) starts.push(t);
      const overlap = Math.floor(observedAt / MINUTE) * MINUTE;
      for (let t = overlap - 10 * MINUTE; t <= overlap; t += MINUTE) starts.push(t);
      const closes = starts.map((_, i) => stock.latestPrice * (1 + 0.02 * Math.sin(i / 200)));
      await client.query(
        `insert into stock_bars (stock_name, start, interval_s, open, high, low, close, volume, provider)
         select 'AAPL', s, 60, c, c * 1.001, c * 0.999, c, 1200, 'yahoo'
         from unnest($1::timestamptz[], $2::numeric[]) as u(s, c)`,
        [starts.map((t) => new Date(t).toISOString()), closes.map((c) => c.toFixed(4))],
      );
    } finally {
      await client.end();
    }
    ({ browser, page, watch } = await openPage(app));
    await page.waitForFunction(() => (window.__stockstreamer?.barPoints('AAPL').length ?? 0) > 0, undefined, {
      timeout: 30_000,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('draws the bars where nothing was observed, and none over the observed tick', async () => {
    const points = await page.evaluate(() => window.__stockstreamer!.barPoints('AAPL'));
    expect(points.length).toBeGreaterThan(100);
    for (const [time] of points) {
      expect(time).toBeGreaterThanOrEqual(barsFrom);
      expect(time).toBeLessThan(barsTo);
    }
    // …all of them, end to end (merged per pixel column: the last merged bar starts within one).
    const column = (7 * DAY_MS) / 1000;
    expect(points[0]![0]).toBe(barsFrom);
    expect(points[points.length - 1]![0]).toBeGreaterThan(barsTo - column);
    // The observed line is still there, apart from the bars; a ticker without bars draws none.
    const [lastTime] = (await page.evaluate(() => window.__stockstreamer!.lastDrawnPoint('AAPL')))!;
    expect(Math.abs(lastTime - observedAt)).toBeLessThan(1000); // stored to the second
    expect(await page.evaluate(() => window.__stockstreamer!.barPoints('GE'))).toEqual([]);
    // The week's window reaches back over the bars, not just the minute of ticks.
    const view = await page.evaluate(() => window.__stockstreamer!.view());
    expect(view.window!.min).toBeLessThanOrEqual(barsFrom);
  });

  it('draws them dashed, as a series of their own', async () => {
    // as ApexCharts holds them (SVG paths or, with many points, a canvas: either takes its dash array)
    const dashes = (await page.evaluate(() => window.__stockstreamer!.lines()))!.lines.map(
      ({ name, dash }) => ({
        name,
        dash,
      }),
    );
    const bars = dashes.filter((s) => /provider/i.test(s.name));
    expect(bars).toHaveLength(1);
    expect(bars[0]!.name).toMatch(/^AAPL/);
    expect(Number(bars[0]!.dash)).toBeGreaterThan(0);
    for (const observed of dashes.filter((s) => !/provider/i.test(s.name)))
      expect(Number(observed.dash)).toBe(0);
  });

  it('says "provider bar" with open, high, low, close and volume when hovered', async () => {
    const points = await page.evaluate(() => window.__stockstreamer!.barPoints('AAPL'));
    const [time, close] = points[Math.floor(points.length / 2)]!;
    const [area, view, y] = await page.evaluate(
      () =>
        [
          window.__stockstreamer!.plotArea(),
          window.__stockstreamer!.view(),
          window.__stockstreamer!.yRange(),
        ] as const,
    );
    const x = area!.left + ((time - view.window!.min) / (view.window!.max - view.window!.min)) * area!.width;
    const yPx = area!.top + (1 - (close - y!.min) / (y!.max - y!.min)) * area!.height;
    let text = '';
    for (const dy of [0, -4, 4, -8, 8, -14, 14]) {
      await page.mouse.move(x, yPx + dy);
      const tooltip = page.getByTestId('chart-tooltip');
      if (await tooltip.isVisible().catch(() => false)) {
        text = (await tooltip.textContent()) ?? '';
        if (text.includes('provider bar')) break;
      }
    }
    expect(text).toContain('AAPL');
    // At the week's width one pixel column merges several minute bars: the tooltip says how many minutes,
    // and their volume is the sum of theirs.
    const span = /provider bar, (\d+) (min|h):/.exec(text);
    const minutes = Number(span?.[1]) * (span?.[2] === 'h' ? 60 : 1);
    expect(minutes).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/O \$\d+\.\d\d · H \$\d+\.\d\d · L \$\d+\.\d\d · C \$\d+\.\d\d · volume [\d,]+$/);
    expect(text).toContain(`volume ${(1200 * minutes).toLocaleString('en-US')}`);
    await page.mouse.move(0, 0);
    expect(watch.errors).toEqual([]);
    expect(watch.offOrigin).toEqual([]);
  });
});
