/**
 * The chart's first frame (issue 16's first paint): the server draws the default week into the page, so
 * the first paint shows it before the chart's code has loaded; the live chart then takes its place. The
 * frame shows only what the chart is about to show: at the size it was drawn for, on the viewer's clock
 * (told by a cookie the page writes), and not where a reload restored another view.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import {
  type FirstPaintSeen,
  framePainted,
  readFirstPaint,
  watchFirstPaint,
} from '../helpers/first-paint.ts';
import { hookOn, type PageWatch, type SeededApp, startSeededApp, watchContext } from './harness.ts';

describe.runIf(browserAvailable())('the first frame', () => {
  let app: SeededApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    app = await startSeededApp();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function newContext(options: Parameters<Browser['newContext']>[0]) {
    const context = await browser.newContext(options);
    contexts.push(context);
    const watch = await watchContext(context, new URL(app.url!).origin);
    return { context, watch };
  }

  /** Opens the page and reads what its first paint showed; `html` is the page as the server sent it. */
  async function load(context: BrowserContext): Promise<{ page: Page; seen: FirstPaintSeen; html: string }> {
    const page = await context.newPage();
    await watchFirstPaint(page);
    const response = await page.goto(`${app.url}/`, { waitUntil: 'domcontentloaded' });
    const seen = await readFirstPaint(page);
    return { page, seen, html: (await response?.text()) ?? '' };
  }

  /**
   * Loads until the server answers with a frame (its first draw for a new size is in the background);
   * `firstVisit`: each time without the cookie the page wrote the time before.
   */
  async function loadWithFrame(context: BrowserContext, size: string, firstVisit = false) {
    for (let attempt = 0; attempt < 10; attempt++) {
      if (firstVisit) await context.clearCookies();
      const loaded = await load(context);
      if (loaded.seen.frame?.size === size) return loaded;
      await loaded.page.close();
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    throw new Error(`no frame of ${size} in 10 loads`);
  }

  function expectClean(watch: PageWatch): void {
    expect(watch.cspViolations).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.offOrigin).toEqual([]);
  }

  it('paints the week at the first paint on a first visit at the guessed size, then gives way to the chart', async () => {
    const { context, watch } = await newContext({ viewport: { width: 1280, height: 800 } });
    const { page, seen } = await loadWithFrame(context, '1206x380', true);
    expect(framePainted(seen)).toBe(true);
    // whole at the first rendering update (index.html's <link rel="expect"> holds it till the frame is parsed)
    expect(seen.frame).toMatchObject({ times: 'off', display: 'block', lines: 6 });
    // the server does not know the viewer's clock yet: no times rather than another clock's
    expect(seen.frame?.xLabels).toEqual([]);
    // gone by the chart's first draw, which is the one chart on the page
    expect(seen.frameWent).toBeLessThanOrEqual(seen.drawn);
    expect(await page.locator('[data-testid="first-frame"]').count()).toBe(0);
    expect(await page.locator('.apexcharts-svg').count()).toBe(1);
    expectClean(watch);
  });

  it('holds the room of what the page fills in later, so the week stays where it was painted', async () => {
    const { context, watch } = await newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(() => {
      const shifts: { value: number; moved: string[] }[] = [];
      (window as unknown as { __shifts: typeof shifts }).__shifts = shifts;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as unknown as {
          value: number;
          sources: { node?: Node | null }[];
        }[]) {
          const moved = entry.sources.map((source) => {
            const node = source.node as HTMLElement | null | undefined;
            return node?.id || (typeof node?.className === 'string' ? node.className : node?.nodeName) || '?';
          });
          shifts.push({ value: entry.value, moved });
        }
      }).observe({ type: 'layout-shift', buffered: true });
    });
    const { page, seen } = await loadWithFrame(context, '1206x380', true);
    expect(framePainted(seen)).toBe(true);
    // everything the page's code fills in above the chart: the cards, the provider's line, the editor
    await expect.poll(() => page.locator('[data-testid="ticker-card"]').count()).toBe(6);
    await expect.poll(() => page.getByTestId('provider-status').textContent()).not.toBe('');
    await expect.poll(() => page.getByTestId('watchlist-editor').isVisible()).toBe(true);
    expect(await page.locator('[data-placeholder]').count()).toBe(0);
    const shifts = await page.evaluate(
      () => (window as unknown as { __shifts: { value: number; moved: string[] }[] }).__shifts,
    );
    // the cards' row came in a second after the week was painted and moved it down ~170 px (a layout shift
    // score of ~0.13): now nothing above the chart moves it, and what moves at all is a sliver
    expect(shifts.flatMap((shift) => shift.moved)).not.toContain('chart-panel');
    expect(shifts.flatMap((shift) => shift.moved)).not.toContain('cards');
    expect(shifts.reduce((sum, shift) => sum + shift.value, 0)).toBeLessThan(0.01);
    expectClean(watch);
  });

  it('draws the next visit at the size and on the clock the page reported, with the times the chart shows', async () => {
    const { context, watch } = await newContext({
      viewport: { width: 1440, height: 900 },
      timezoneId: 'Asia/Kolkata',
    });
    const first = await load(context);
    // the guessed size is not this window's chart: the frame, if served, was not shown
    expect(framePainted(first.seen)).toBe(false);
    const size = await first.page
      .locator('[data-testid="price-chart"]')
      .evaluate((el) => `${el.clientWidth}x${el.clientHeight}`);
    expect(size).toBe('1206x480');
    // the zone as this browser names it (Chromium may give an older name of the same zone)
    const zone = await first.page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'stockstreamer-frame')?.value).toBe(`${size}~${zone}`);
    await first.page.close();

    const { page, seen } = await loadWithFrame(context, size);
    expect(framePainted(seen)).toBe(true);
    expect(seen.frame).toMatchObject({ times: 'on', zone, display: 'block', lines: 6 });
    const chartLabels = await page
      .locator('.apexcharts-xaxis-label')
      .evaluateAll((els) => els.map((e) => e.querySelector('tspan')?.textContent ?? e.textContent));
    expect(seen.frame?.xLabels.length).toBeGreaterThan(3);
    expect(seen.frame?.xLabels).toEqual(chartLabels);
    expectClean(watch);
  });

  it("leaves the frame out of the first paint where a phone's chart is not the size it was drawn for", async () => {
    const { context, watch } = await newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const { seen, html } = await load(context);
    expect(html).toContain('data-testid="first-frame"');
    expect(framePainted(seen)).toBe(false);
    expect(seen.frame?.display).toBe('none');
    expectClean(watch);
  });

  it('takes the frame away before the first paint when the controls were restored to another view', async () => {
    const { context, watch } = await newContext({ viewport: { width: 1280, height: 800 } });
    await loadWithFrame(context, '1206x380', true);
    // What a browser's form restoration does on a reload: the radio is checked as the parser creates it.
    await context.addInitScript(() => {
      new MutationObserver((_records, observer) => {
        const percent = document.querySelector<HTMLInputElement>('input[name="mode"][value="percent"]');
        if (!percent) return;
        percent.checked = true;
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    await context.clearCookies();
    const { page, seen, html } = await load(context);
    expect(html).toContain('data-testid="first-frame"');
    expect((await hookOn(() => page)('view')).mode).toBe('percent');
    // in the page as the server sent it, and hidden from the first rendering update on (its style sees
    // the restored radio; the page's code has not run yet), so never painted
    expect(seen.frame?.display).toBe('none');
    expect(framePainted(seen)).toBe(false);
    expect(seen.frameWent).toBeLessThanOrEqual(seen.drawn);
    expectClean(watch);
  });
});
