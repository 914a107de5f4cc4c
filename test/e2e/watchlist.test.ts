/**
 * Editing the watchlist from the page, through the real mutations, as the two admin modes allow it: open
 * to a page on the server's own machine when there is no ADMIN_PASSWORD, and behind a sign-in when there is.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import { graphql, type PageWatch, type SeededApp, startSeededApp, TICKERS, watchContext } from './harness.ts';

const PASSWORD = 'correct-horse-battery-staple';

async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
    timeout: 30_000,
  });
  return page;
}

function expectCleanWatch(watch: PageWatch): void {
  expect(watch.offOrigin).toEqual([]);
  expect(watch.cspViolations).toEqual([]);
  expect(watch.errors).toEqual([]);
}

describe.runIf(browserAvailable())('watchlist editing without ADMIN_PASSWORD (loopback admin)', () => {
  let app: SeededApp;
  let browser: Browser;
  let context: BrowserContext;
  let watch: PageWatch;
  let page: Page;

  beforeAll(async () => {
    app = await startSeededApp({ days: 1 });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    watch = await watchContext(context, new URL(app.url!).origin);
    page = await openPage(context, app.url!);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const cards = () =>
    page.getByTestId('ticker-card').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.ticker));

  it('offers editing to a page opened on the server’s own machine', async () => {
    await expect.poll(() => page.getByTestId('edit-watchlist').isVisible()).toBe(true);
    expect(await page.getByTestId('sign-in').isHidden()).toBe(true);
    expect(await page.getByTestId('add-ticker-form').isHidden()).toBe(true);
    expect(await page.getByTestId('remove-ticker').first().isHidden()).toBe(true);
    await page.getByTestId('edit-watchlist').click();
    expect(await page.getByTestId('edit-watchlist').getAttribute('aria-expanded')).toBe('true');
    expect(await page.getByTestId('add-ticker-form').isVisible()).toBe(true);
    expect(await page.getByTestId('remove-ticker').count()).toBe(6);
    expect(await page.getByTestId('remove-ticker').first().isVisible()).toBe(true);
    // the input is focused and labelled
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('add-ticker-input');
    expect(await page.getByLabel('Add a ticker').count()).toBe(1);
  });

  it('shows the server’s error, naming the field, for something that is not a ticker', async () => {
    await page.getByTestId('add-ticker-input').fill('12 bad');
    await page.getByTestId('add-ticker-submit').click();
    const error = page.getByTestId('watchlist-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.textContent()).toMatch(/^ticker: "12 bad" is not a ticker/);
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.getByTestId('add-ticker-input').getAttribute('aria-invalid')).toBe('true');
    expect(await cards()).toEqual([...TICKERS]);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/watchlist-editing.png' });
  });

  it('adds a ticker: a card, a legend entry, and a line once its first tick is stored', async () => {
    await page.getByTestId('add-ticker-input').fill('msft');
    await page.getByTestId('add-ticker-submit').click();
    await expect.poll(cards).toEqual([...TICKERS, 'MSFT']);
    expect(await page.getByTestId('watchlist-status').textContent()).toMatch(/^Added MSFT/);
    expect(await page.getByTestId('watchlist-error').isHidden()).toBe(true);
    expect(await page.locator('[data-testid=legend-entry][data-ticker=MSFT]').count()).toBe(1);
    // the server fetches its name and 52-week range in the background; the page picks them up
    await expect
      .poll(() => page.locator('[data-testid=ticker-card][data-ticker=MSFT] .card-name').textContent(), {
        timeout: 20_000,
      })
      .toBe('Microsoft Corporation');
    const { watchlist } = await graphql<{ watchlist: { ticker: string; enabled: boolean }[] }>(
      app,
      '{ watchlist { ticker enabled } }',
    );
    expect(watchlist.filter((s) => s.enabled).map((s) => s.ticker)).toContain('MSFT');

    await app.tick();
    await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 7, undefined, {
      timeout: 15_000,
    });
    expect(await page.evaluate(() => window.__stockstreamer?.drawnTickers())).toContain('MSFT');
  });

  it('removes a ticker from its card, and can put it back', async () => {
    await page.locator('[data-testid=ticker-card][data-ticker=MSFT]').getByTestId('remove-ticker').click();
    await expect.poll(cards).toEqual([...TICKERS]);
    await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6);
    expect(await page.getByTestId('watchlist-status').textContent()).toMatch(
      /Removed MSFT; its history is kept/,
    );

    await page.getByTestId('undo-remove').click();
    await expect.poll(cards).toEqual([...TICKERS, 'MSFT']);
    await page.locator('[data-testid=ticker-card][data-ticker=MSFT]').getByTestId('remove-ticker').click();
    await expect.poll(cards).toEqual([...TICKERS]);

    await page.getByTestId('edit-watchlist').click();
    expect(await page.getByTestId('add-ticker-form').isHidden()).toBe(true);
    expect(await page.getByTestId('remove-ticker').first().isHidden()).toBe(true);
  });

  it('made no request elsewhere, broke no CSP rule and threw nothing', () => {
    expectCleanWatch(watch);
  });
});

describe.runIf(browserAvailable())('watchlist editing with ADMIN_PASSWORD', () => {
  let app: SeededApp;
  let browser: Browser;
  let context: BrowserContext;
  let watch: PageWatch;
  let page: Page;

  beforeAll(async () => {
    app = await startSeededApp({ days: 1, env: { ADMIN_PASSWORD: PASSWORD } });
    browser = await launchChromium();
    // the browser holds the admin's Basic credentials and answers the board's sign-in prompt with them
    context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      httpCredentials: { username: 'admin', password: PASSWORD },
    });
    watch = await watchContext(context, new URL(app.url!).origin);
    page = await openPage(context, app.url!);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('hides the editor from a page without credentials and offers a sign-in instead', async () => {
    await expect.poll(() => page.getByTestId('sign-in').isVisible()).toBe(true);
    expect(await page.getByTestId('edit-watchlist').isHidden()).toBe(true);
    expect(await page.getByTestId('add-ticker-form').isHidden()).toBe(true);
    expect(await page.getByTestId('remove-ticker').first().isHidden()).toBe(true);
  });

  it('gets no rights from a Basic sign-in on /admin/queues: Chromium keeps it to /admin/', async () => {
    const board = await context.newPage();
    const response = await board.goto(`${app.url}/admin/queues`);
    expect(response?.status()).toBe(200); // signed in to the board…
    const permissions = await board.evaluate(async () => {
      const answer = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ permissions { canEditWatchlist adminMode } }' }),
      });
      return (await answer.json()).data.permissions;
    });
    // …but /graphql never sees those credentials, so the page must ask for the password itself
    expect(permissions).toEqual({ canEditWatchlist: false, adminMode: 'PASSWORD' });
    await board.close();
    await page.reload();
    await expect.poll(() => page.getByTestId('sign-in').isVisible()).toBe(true);
  });

  it('refuses a wrong password, then signs in with the right one and edits', async () => {
    await page.getByTestId('sign-in').click();
    expect(await page.getByTestId('sign-in-form').isVisible()).toBe(true);
    expect(await page.locator('#sign-in-help').textContent()).toContain('/admin/queues');
    await page.screenshot({ path: 'test-results/watchlist-sign-in.png' });
    await page.getByLabel('Admin password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('watchlist-error').textContent())
      .toBe('That password was not accepted.');
    expect(await page.getByTestId('edit-watchlist').isHidden()).toBe(true);

    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByTestId('add-ticker-form').isVisible()).toBe(true);
    expect(await page.getByTestId('edit-watchlist').isVisible()).toBe(true);
    expect(await page.getByTestId('sign-in').isHidden()).toBe(true);

    await page.getByTestId('add-ticker-input').fill('IBM');
    await page.getByTestId('add-ticker-submit').click();
    await expect
      .poll(() =>
        page
          .getByTestId('ticker-card')
          .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.ticker)),
      )
      .toContain('IBM');
    await page.locator('[data-testid=ticker-card][data-ticker=IBM]').getByTestId('remove-ticker').click();
    await expect.poll(() => page.locator('[data-testid=ticker-card][data-ticker=IBM]').count()).toBe(0);
  });

  it('keeps the sign-in for the tab across a reload, and signs out', async () => {
    await page.reload();
    await expect.poll(() => page.getByTestId('edit-watchlist').isVisible()).toBe(true);
    await page.getByTestId('edit-watchlist').click();
    await page.getByTestId('sign-out').click();
    await expect.poll(() => page.getByTestId('sign-in').isVisible()).toBe(true);
    expect(await page.getByTestId('edit-watchlist').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('made no request elsewhere, broke no CSP rule and threw nothing', () => {
    expectCleanWatch(watch);
  });
});
