/**
 * Candles mode in Chromium against the seeded app: one picked ticker's candles, exactly what the `candles`
 * query answers, the live candle moved by ticks over the subscription, a volume pane where the provider's
 * bars give volume, and lines back as they were.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTickRepository } from '../../src/db/tick-repository.ts';
import type { CandleSeries } from '../../web/src/types.ts';
import { browserAvailable } from '../helpers/browser.ts';
import {
  DAY_MS,
  graphql,
  type Hook,
  openPage,
  type PageWatch,
  type SeededApp,
  startSeededApp,
} from './harness.ts';

const ARTIFACTS = 'test-results';
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const TICKER = 'NVDA';
/** Shares in each seeded minute bar. */
const BAR_VOLUME = 1000;

type Drawn = NonNullable<ReturnType<Hook['candles']>>;

interface CandlesAnswer {
  candles: Omit<CandleSeries, 'ticks'>[];
}

describe.runIf(browserAvailable())('candles on the chart page', () => {
  let app: SeededApp;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  /** The whole hour, two days back, that the provider's minute bars (with volume) cover. */
  const barHour = Math.floor((Date.now() - 2 * DAY_MS) / HOUR_MS) * HOUR_MS;

  const drawn = () => page.evaluate(() => window.__stockstreamer!.candles());
  const lastCandle = (d: Drawn) => {
    const i = d.times.length - 1;
    return { time: d.times[i]!, open: d.open[i]!, high: d.high[i]!, low: d.low[i]!, close: d.close[i]! };
  };

  /** Stores a tick and publishes it, as a price job would; returns its time. */
  async function liveTick(price: number): Promise<number> {
    const time = new Date(Math.floor(Date.now() / 1000) * 1000);
    await createTickRepository(app.deps.database.db).insertTicks([{ ticker: TICKER, price, time }]);
    await app.deps.publishTicks([{ ticker: TICKER, price, time }]);
    return time.getTime();
  }

  beforeAll(async () => {
    app = await startSeededApp();
    // A live provider's minute bars over one whole observed hour: the only volume there is in storage.
    await app.deps.database.pool.query(
      `insert into stock_bars (stock_name, start, interval_s, open, high, low, close, volume, provider)
       select $1, s, 60, 100, 101, 99, 100, $2, 'test'
       from generate_series($3::timestamptz, $4::timestamptz, interval '1 minute') as s`,
      [
        TICKER,
        BAR_VOLUME,
        new Date(barHour).toISOString(),
        new Date(barHour + HOUR_MS - MINUTE_MS).toISOString(),
      ],
    );
    ({ browser, page, watch } = await openPage(app));
    await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
      timeout: 30_000,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('draws the picked ticker’s candles, equal to what the candles query answers', async () => {
    expect(await page.evaluate(() => window.__stockstreamer!.chartStyle())).toBe('line');
    await page.getByRole('radio', { name: 'Candles', exact: true }).check();
    await page.getByTestId('candle-ticker').selectOption(TICKER);
    await page.waitForFunction((ticker) => window.__stockstreamer?.candles()?.ticker === ticker, TICKER, {
      timeout: 30_000,
    });
    const d = (await drawn())!;
    expect(await page.evaluate(() => window.__stockstreamer!.chartStyle())).toBe('candles');
    // 7 days at the chart's width: hourly candles, and the page says so
    expect(d.interval).toBe('H1');
    await expect
      .poll(() => page.getByTestId('candle-interval').textContent())
      .toBe(`${TICKER} · hourly candles`);
    expect(await page.getByTestId('chart-title').textContent()).toBe('Candles, US dollars');
    // the line chart's hint about its zoom's dots does not speak of candles
    expect(await page.getByTestId('dots-note').isVisible()).toBe(false);
    expect(d.times.length).toBeGreaterThan(7 * 24 - 2);

    const last = d.times[d.times.length - 1]!;
    const answer = await graphql<CandlesAnswer>(
      app,
      `query ($from: DateTime, $to: DateTime) {
        candles(tickers: ["${TICKER}"], interval: H1, from: $from, to: $to, width: 5000) {
          ticker interval times open high low close volume
        }
      }`,
      { from: new Date(d.times[0]!).toISOString(), to: new Date(last + HOUR_MS).toISOString() },
    );
    const [expected] = answer.candles;
    expect(expected!.interval).toBe('H1');
    expect(d.times).toEqual(expected!.times);
    expect(d.open).toEqual(expected!.open);
    expect(d.high).toEqual(expected!.high);
    expect(d.low).toEqual(expected!.low);
    expect(d.close).toEqual(expected!.close);
    expect(d.volume).toEqual(expected!.volume);

    // …and ApexCharts drew them: a candle body per candle, in the price pane
    const bodies = await page
      .getByTestId('candle-price')
      .locator('.apexcharts-candlestick-series path')
      .count();
    expect(bodies).toBe(d.times.length);
    // one ticker only: no line series is on screen
    expect(await page.getByTestId('price-chart').isVisible()).toBe(false);
  });

  it('has a volume pane with bars where the provider’s bars gave volume', async () => {
    const d = (await drawn())!;
    expect(d.volumeShown).toBe(true);
    const i = d.times.indexOf(barHour);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(d.volume[i]).toBe(60 * BAR_VOLUME);
    // the other hours were observed without bars: no volume, not a made-up zero
    expect(d.volume.filter((v) => v !== null)).toHaveLength(1);
    await expect.poll(() => page.getByTestId('candle-volume').isVisible()).toBe(true);
    const bars = await page
      .getByTestId('candle-volume')
      .locator('.apexcharts-bar-series path')
      .evaluateAll((els) => els.filter((el) => (el.getAttribute('d') ?? '').length > 0).length);
    expect(bars).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('volume-note').isVisible()).toBe(false);
  });

  it('moves the last candle’s close with a live tick, and its high and low where the tick passes them', async () => {
    const before = lastCandle((await drawn())!);
    const nowHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const up = Math.round(before.high * 1.01 * 100) / 100;
    const upAt = await liveTick(up);
    await page.waitForFunction((price) => {
      const c = window.__stockstreamer!.candles()!;
      return c.close[c.close.length - 1] === price;
    }, up);
    const afterUp = lastCandle((await drawn())!);
    if (Math.floor(upAt / HOUR_MS) * HOUR_MS === before.time) {
      // the same hour: its open and low stay, the tick is its new high and close
      expect(afterUp).toEqual({ ...before, high: up, close: up });
    } else {
      // the hour turned between the load and the tick: a new candle on the grid
      expect(afterUp).toEqual({ time: nowHour, open: up, high: up, low: up, close: up });
    }
    const down = Math.round(afterUp.low * 0.99 * 100) / 100;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a second of its own: one tick per second
    await liveTick(down);
    await page.waitForFunction((price) => {
      const c = window.__stockstreamer!.candles()!;
      return c.close[c.close.length - 1] === price;
    }, down);
    const afterDown = lastCandle((await drawn())!);
    if (afterDown.time === afterUp.time) expect(afterDown).toEqual({ ...afterUp, low: down, close: down });
    else expect(afterDown).toMatchObject({ open: down, high: down, low: down, close: down });
  });

  it('says what each candle is when hovered: ticker, start, O/H/L/C and volume', async () => {
    const d = (await drawn())!;
    const i = d.times.indexOf(barHour);
    const box = (await page
      .getByTestId('candle-price')
      .locator('.apexcharts-candlestick-series path')
      .nth(i)
      .boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tooltip = page.getByTestId('candle-price').getByTestId('candle-tooltip');
    await expect.poll(() => tooltip.isVisible()).toBe(true);
    const text = (await tooltip.textContent()) ?? '';
    expect(text).toContain(TICKER);
    expect(text).toMatch(/O \$[\d,]+\.\d\d H \$[\d,]+\.\d\d L \$[\d,]+\.\d\d C \$[\d,]+\.\d\d/);
    expect(text).toContain(`volume ${(60 * BAR_VOLUME).toLocaleString('en-US')}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/candles-light.png` });
    await page.mouse.move(0, 0);
  });

  it('draws in the dark theme too', async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'dark' });
    const darkPage = await dark.newPage();
    await darkPage.goto(`${app.url}/`);
    await darkPage.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
      timeout: 30_000,
    });
    await darkPage.getByRole('radio', { name: 'Candles', exact: true }).check();
    await darkPage.waitForFunction(() => (window.__stockstreamer?.candles()?.times.length ?? 0) > 0);
    await darkPage.screenshot({ path: `${ARTIFACTS}/candles-dark.png` });
    await dark.close();
  });

  it('switching back to lines draws the six lines again', async () => {
    await page.getByRole('radio', { name: 'Line', exact: true }).check();
    await page.waitForFunction(() => window.__stockstreamer?.chartStyle() === 'line');
    await expect.poll(() => page.evaluate(() => window.__stockstreamer!.seriesCount())).toBe(6);
    await expect
      .poll(async () => (await page.evaluate(() => window.__stockstreamer!.lines()))?.lines.length)
      .toBe(6);
    expect(await page.getByTestId('candle-chart').isVisible()).toBe(false);
    expect(await page.getByTestId('chart-title').textContent()).toBe('Price, US dollars');
    expect(await page.getByTestId('dots-note').isVisible()).toBe(true);
    expect(watch.errors).toEqual([]);
    expect(watch.offOrigin).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });
});
