import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';

const TICKERS = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'];
const ARTIFACTS = 'test-results';

describe.runIf(browserAvailable())('the live chart page in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    // A few minutes of history before the page opens: one tick per ticker every 5 s.
    for (let i = 0; i < 12; i++) {
      app.clock.advance(5000);
      await app.runPriceJob();
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${app.url}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const pointCount = (ticker: string) =>
    page.evaluate((t) => window.__stockstreamer?.pointCount(t) ?? 0, ticker);

  it('draws one series per watched ticker with its history', async () => {
    await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
      timeout: 20_000,
    });
    // A minute of ticks falls into one 9-minute M4 column of the 7-day view: its first, last, low and high.
    for (const ticker of TICKERS) {
      await page.waitForFunction((t) => (window.__stockstreamer?.pointCount(t) ?? 0) >= 2, ticker);
    }
    await expect.poll(() => page.getByTestId('connection-status').textContent()).toMatch(/live/i);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/chart.png` });
  });

  it('extends a line when a tick is stored and published on the server, without a reload', async () => {
    const before = await pointCount('AAPL');
    app.clock.advance(5000);
    const result = await app.runPriceJob();
    expect(result.stored).toBe(6);
    await page.waitForFunction(
      ([t, n]) => (window.__stockstreamer?.pointCount(t as string) ?? 0) > (n as number),
      ['AAPL', before] as const,
      { timeout: 15_000 },
    );
    expect(await pointCount('AAPL')).toBe(before + 1);
  });

  it('loads everything from its own origin', () => {
    const origin = new URL(app.url!).origin;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'))).toEqual([]);
  });
});
