/**
 * The live connection in Chromium: the status pill follows it (live → reconnecting/offline → live), and
 * after a reconnect the page fetches the ticks it missed, so the line has no gap. The page talks to an API
 * process of its own that the test stops and starts again on the same port, while the workers go on storing
 * and publishing ticks.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { type Running, startRole } from '../../src/start.ts';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import { silentLogger, testEnv } from '../helpers/services.ts';
import { type PageWatch, type SeededApp, startSeededApp, watchContext } from './harness.ts';

describe.runIf(browserAvailable())('reconnecting after the API goes away', () => {
  let app: SeededApp;
  let api: Running | undefined;
  let port = 0;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;

  /** An API-only process on the app's database and Redis prefix, on `port` (0: any free one). */
  async function startApi(): Promise<Running> {
    const config = loadConfig(testEnv(app.database.url, app.prefix, { PORT: String(port) }));
    const running = await startRole('api', config, { clock: app.clock, logger: silentLogger });
    port = Number(new URL(running.url!).port);
    return running;
  }

  const status = () => page.getByTestId('connection-status').textContent();
  const points = () => page.evaluate(() => window.__stockstreamer?.pointCount('AAPL') ?? 0);

  beforeAll(async () => {
    app = await startSeededApp({ days: 1 });
    api = await startApi();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    watch = await watchContext(context, new URL(api.url!).origin);
    page = await context.newPage();
    await page.goto(`${api.url}/`);
    await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
      timeout: 30_000,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await app?.stop();
  });

  it('says it is reconnecting while the server is away, and fills the gap once it is back', async () => {
    await expect.poll(status).toBe('live');
    const before = await points();
    await api!.close();
    api = undefined;
    await expect.poll(status, { timeout: 15_000 }).toMatch(/^(reconnecting|offline)$/);

    // two ticks stored and published while the page cannot hear them
    await app.tick();
    const firstMissed = app.clock.now().getTime();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await app.tick();
    const lastMissed = app.clock.now().getTime();
    const missed = () =>
      page.evaluate(
        ([from, to]) => window.__stockstreamer?.pointTimes('AAPL', from!, to!) ?? [],
        [firstMissed, lastMissed],
      );
    expect(await missed()).toEqual([]);

    api = await startApi();
    await expect.poll(status, { timeout: 40_000 }).toBe('live');
    // the backfill brings both (and, from its minute of overlap, any detail the first load had reduced away)
    await expect.poll(missed, { timeout: 15_000 }).toEqual([firstMissed, lastMissed]);
    expect(await points()).toBeGreaterThanOrEqual(before + 2);
    // drawn with the next animation frame after the backfill merged (on a busy machine, after this test
    // has already read the merged store: read once, it caught the draw before it, in one CI run)
    await expect
      .poll(() => page.evaluate(() => window.__stockstreamer?.lastDrawnPoint('AAPL')?.[0]))
      .toBe(lastMissed);

    // and live again: the next tick arrives pushed
    const afterBackfill = await points();
    await app.tick();
    await expect.poll(points, { timeout: 15_000 }).toBe(afterBackfill + 1);
  });

  it('made no request elsewhere and broke no CSP rule', () => {
    expect(watch.offOrigin).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    // the dropped stream and the refused reconnects are logged by the browser as errors: expected here
    expect(
      watch.errors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to fetch|live feed|net::ERR/.test(e)),
    ).toEqual([]);
  });
});
