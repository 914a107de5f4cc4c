/**
 * Price alerts on the page, in Chromium against the real app: a rule fires on a stored tick, the page gets
 * the firing over the `alerts` subscription, shows a browser notification (permission granted), lists it
 * and marks it on the chart; a reload draws the marker again from the log, without notifying again.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import { waitFor } from '../helpers/provider-app.ts';
import { graphql, type PageWatch, type SeededApp, startSeededApp, watchContext } from './harness.ts';

declare global {
  interface Window {
    __notified?: { title: string; body: string }[];
  }
}

describe.runIf(browserAvailable())('price alerts on the page', () => {
  let app: SeededApp;
  let browser: Browser;
  let context: BrowserContext;
  let watch: PageWatch;
  let page: Page;

  async function openPage(): Promise<Page> {
    const opened = await context.newPage();
    await opened.goto(`${app.url}/`);
    await opened.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
      timeout: 30_000,
    });
    return opened;
  }
  const alertMarkers = (on: Page, ticker: string) =>
    on.evaluate((t) => window.__stockstreamer!.alertMarkers(t), ticker);

  beforeAll(async () => {
    app = await startSeededApp({ days: 1 });
    browser = await launchChromium();
    const origin = new URL(app.url!).origin;
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.grantPermissions(['notifications'], { origin });
    // Records what the page shows, then shows it: the browser's own Notification still runs.
    await context.addInitScript(() => {
      const Native = window.Notification;
      window.__notified = [];
      window.Notification = class extends Native {
        constructor(title: string, options?: NotificationOptions) {
          window.__notified!.push({ title, body: options?.body ?? '' });
          super(title, options);
        }
      } as typeof Notification;
    });
    watch = await watchContext(context, origin);
    page = await openPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('notifies, lists and marks a firing as it happens, and draws it again after a reload', async () => {
    expect(await page.getByTestId('enable-notifications').isHidden()).toBe(true); // already granted
    expect(await page.getByTestId('alert-empty').isVisible()).toBe(true);
    const { watchlist } = await graphql<{ watchlist: { ticker: string; latestPrice: number }[] }>(
      app,
      '{ watchlist { ticker latestPrice } }',
    );
    const aapl = watchlist.find((s) => s.ticker === 'AAPL')!.latestPrice;
    await graphql(app, 'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: { ticker: 'AAPL', kind: 'BELOW', threshold: Math.round(aapl * 200) / 100 },
    });

    await app.tick();
    const firedAt = app.clock.now().getTime();
    await page.waitForFunction(() => (window.__notified?.length ?? 0) > 0, undefined, { timeout: 15_000 });
    const notified = await page.evaluate(() => window.__notified!);
    expect(notified).toHaveLength(1);
    expect(notified[0]!.title).toBe('Price alert: AAPL');
    expect(notified[0]!.body).toMatch(/^AAPL at \$[\d.]+, at or below \$/);

    const items = page.getByTestId('alert-item');
    expect(await items.count()).toBe(1);
    expect(await items.first().textContent()).toContain(notified[0]!.body);
    expect(await page.getByTestId('alert-empty').isHidden()).toBe(true);

    await expect.poll(() => alertMarkers(page, 'AAPL')).toHaveLength(1);
    const [[time, price]] = (await alertMarkers(page, 'AAPL')) as [[number, number]];
    expect(time).toBe(firedAt);
    expect(notified[0]!.body).toContain(`$${price},`);
    expect(await page.locator('path.ss-alert-marker[data-ticker="AAPL"]').count()).toBe(1);
    expect(await alertMarkers(page, 'NVDA')).toEqual([]);

    // The next tick is still below the level: the rule stays quiet. Evaluation runs on its own queue after
    // the price job, so the check waits until that tick has been judged, not only drawn.
    const alertJobs = () =>
      app.workers!.alertQueue.getJobCounts('completed', 'waiting', 'active', 'delayed', 'prioritized');
    const judgedBefore = (await alertJobs()).completed ?? 0;
    await app.tick();
    await waitFor('the tick to be judged by the alert rules', async () => {
      const c = await alertJobs();
      return (c.completed ?? 0) > judgedBefore && !c.waiting && !c.active && !c.delayed && !c.prioritized;
    });
    await expect
      .poll(() => page.evaluate(() => window.__stockstreamer!.lastDrawnPoint('AAPL')?.[0]))
      .toBe(app.clock.now().getTime());
    expect(await page.evaluate(() => window.__notified!.length)).toBe(1);

    const reloaded = await openPage();
    await expect.poll(() => alertMarkers(reloaded, 'AAPL')).toEqual([[time, price]]);
    expect(await reloaded.getByTestId('alert-item').count()).toBe(1);
    expect(await reloaded.evaluate(() => window.__notified!.length)).toBe(0);
    expect(watch.offOrigin).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.errors).toEqual([]);
  });

  it('creates, pauses and deletes rules from the page, showing the server’s message for a bad one', async () => {
    const editor = page.getByTestId('alert-rules-editor');
    await expect.poll(() => editor.isVisible()).toBe(true);
    const rules = () => page.getByTestId('alert-rule').allTextContents();
    await expect.poll(rules).toEqual([expect.stringMatching(/^AAPL at or below \$[\d.]+/)]);

    await page.getByTestId('alert-rule-ticker').fill('NVDA');
    await page.getByTestId('alert-rule-kind').selectOption('MOVE_PERCENT');
    await page.getByTestId('alert-rule-threshold').fill('-5');
    await page.getByTestId('alert-rule-submit').click();
    await expect
      .poll(() => page.getByTestId('alert-rule-error').textContent())
      .toContain('windowMinutes: wanted whole minutes from 5 to 1440');
    await page.getByTestId('alert-rule-window').fill('15');
    await page.getByTestId('alert-rule-submit').click();
    await expect.poll(rules).toHaveLength(2);
    expect((await rules())[1]).toContain('NVDA moves by -5 % in 15 min');
    expect(await page.getByTestId('alert-rule-error').isHidden()).toBe(true);

    await page.getByTestId('pause-alert-rule').nth(1).click();
    await expect.poll(async () => (await rules())[1]).toContain('(paused)');
    const { alertRules } = await graphql<{ alertRules: { ticker: string; paused: boolean }[] }>(
      app,
      '{ alertRules { ticker paused } }',
    );
    expect(alertRules).toEqual([
      { ticker: 'AAPL', paused: false },
      { ticker: 'NVDA', paused: true },
    ]);
    await page.getByTestId('delete-alert-rule').nth(1).click();
    await expect.poll(rules).toHaveLength(1);
  });
});
