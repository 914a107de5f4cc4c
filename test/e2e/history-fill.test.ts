/**
 * A fresh start as a new user sees it: an empty database, the default "last 7 days" view, and the history
 * jobs filling the week while the page is open. The page says how far they have come, then draws the week.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import { DAY_MS, type PageWatch, watchContext } from './harness.ts';

describe.runIf(browserAvailable())('a fresh start fills the week on the page', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;

  beforeAll(async () => {
    app = await startTestApp({
      env: { BACKFILL_DAYS: '7', PRICE_INTERVAL_MS: '60000' },
      start: new Date(Math.floor(Date.now() / 1000) * 1000),
    });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    watch = await watchContext(context, new URL(app.url!).origin);
    page = await context.newPage();
    await page.goto(`${app.url}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('draws seven days of every ticker once the fill has ended, without a reload', async () => {
    const status = page.getByTestId('provider-status');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="provider-status"]')?.getAttribute('data-history') === 'filled',
      undefined,
      { timeout: 60_000 },
    );
    expect(await status.textContent()).not.toContain('filling history');
    const weekAgo = Date.now() - 7 * DAY_MS;
    for (const ticker of ['GE', 'AAPL', 'NFLX']) {
      const firstDay = await page.evaluate(
        ([t, from]) =>
          window.__stockstreamer!.pointTimes(t as string, from as number, (from as number) + 86_400_000),
        [ticker, weekAgo] as const,
      );
      expect(firstDay.length, ticker).toBeGreaterThan(0);
    }
    expect(watch.errors).toEqual([]);
    expect(watch.offOrigin).toEqual([]);
  });
});
