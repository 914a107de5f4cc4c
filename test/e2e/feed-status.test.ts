/**
 * The page must say when prices stop coming, not only when its own connection drops: with the provider
 * refusing the key (HTTP 401) the pill used to stay LIVE while "Last tick" froze. A real app fetches from
 * the local fake upstream through its finnhub client; the page is the built one, in Chromium.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import { DEFAULT_TRADE_TIME, type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { runJob, settle } from '../helpers/provider-app.ts';
import { type PageWatch, watchContext } from './harness.ts';

const TICKERS = ['AAPL', 'MSFT'];
const HOUR = 3_600_000;

describe.runIf(browserAvailable())('the status pill when the provider refuses the key', () => {
  let fake: FakeUpstream;
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let watch: PageWatch;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    app = await startTestApp({
      env: fake.env('finnhub', { SYMBOLS: TICKERS.join(','), PROVIDER_BUDGET: 'off' }),
    });
    await settle(app);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    watch = await watchContext(context, new URL(app.url!).origin);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await fake?.close();
  });

  const pill = () => page.getByTestId('connection-status');
  const problem = () => page.getByTestId('feed-problem');

  it('says LIVE while prices arrive', async () => {
    page = await context.newPage();
    await page.goto(`${app.url}/`);
    await expect.poll(() => pill().textContent(), { timeout: 30_000 }).toBe('live');
    expect(await problem().isHidden()).toBe(true);
  });

  it('says PROVIDER ERROR with the provider’s reason and the age once no good price came for a while', async () => {
    fake.inject({ provider: 'finnhub', kind: 'status', status: 401, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 4; i++) {
      app.clock.advance(HOUR);
      expect((await runJob(app, 'prices')).state).toBe('failed');
    }
    // The page asks every 5 s; a reload asks at once.
    await page.reload();
    await expect.poll(() => pill().textContent(), { timeout: 30_000 }).toBe('provider error');
    expect(await pill().getAttribute('data-state')).toBe('provider-error');
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point (CSS upper-cases it, as LIVE)
    expect(await pill().innerText()).toBe('PROVIDER ERROR');
    expect(await problem().isVisible()).toBe(true);
    expect(await problem().textContent()).toMatch(
      /^Provider error: no good price for 4 h 0 min: finnhub: .*HTTP 401/,
    );
    expect(await pill().getAttribute('title')).toMatch(/HTTP 401/);
    // Each card says so too, instead of a bare "—".
    const cardProblems = page.getByTestId('card-problem');
    await expect
      .poll(() => cardProblems.evaluateAll((els) => els.filter((e) => !(e as HTMLElement).hidden).length))
      .toBe(2);
    expect(await cardProblems.first().textContent()).toMatch(
      /^no good price for 4 h 0 min: finnhub: .*HTTP 401/,
    );
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/feed-provider-error.png' });
  });

  it('says LIVE again as soon as a tick arrives', async () => {
    fake.clearFaults();
    for (const symbol of TICKERS) {
      fake.setQuote(
        symbol,
        fake.market.get(symbol)!.price + 0.01,
        new Date(DEFAULT_TRADE_TIME.getTime() + HOUR),
      );
    }
    app.clock.advance(HOUR);
    expect((await runJob(app, 'prices')).state).toBe('completed');
    await expect.poll(() => pill().textContent(), { timeout: 10_000 }).toBe('live');
    expect(await problem().isHidden()).toBe(true);
    expect(
      await page
        .getByTestId('card-problem')
        .evaluateAll((els) => els.filter((e) => !(e as HTMLElement).hidden).length),
    ).toBe(0);
    expect(watch.offOrigin).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.errors).toEqual([]);
  });
});
