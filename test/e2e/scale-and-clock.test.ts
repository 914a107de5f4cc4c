/**
 * The log scale and whose clock the page reads (issue 16): on a log axis equal ratios are equal distances,
 * for lines, bands and labels alike; the exchanges' clock moves the time axis, the tooltip and the last
 * tick's time to New York's, and the choice outlives a reload.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import { graphql, hookOn, type PageWatch, type SeededApp, startSeededApp, watchContext } from './harness.ts';

const VIEWER_ZONE = 'Asia/Kolkata'; // off the hour from New York, so a whole-hour slip would show
const EXCHANGE_ZONE = 'America/New_York';

/** `ms` on `zone`'s 24-hour clock, as Intl (not the page) formats it. */
function clockIn(zone: string, ms: number, seconds = false): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
  }).format(ms);
}

/**
 * What a time-axis label at `ms` may read on `zone`'s clock: the time, or, where the window crosses a
 * midnight of that clock (ApexCharts then dates every label), the day and the time, e.g. `05 Dec 23:15`.
 */
function axisLabelsIn(zone: string, ms: number): string[] {
  const day = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: '2-digit', month: 'short' }).format(ms);
  return [clockIn(zone, ms), `${day} ${clockIn(zone, ms)}`];
}

/** Seconds between the tooltip's clock time and `ms` on `zone`'s clock, across midnight. */
function clockGap(tooltip: string, zone: string, ms: number): number {
  const said = /(\d\d):(\d\d):(\d\d)/.exec(tooltip);
  if (!said) return Number.POSITIVE_INFINITY;
  const [h, m, sec] = clockIn(zone, ms, true).split(':').map(Number);
  const gap = Math.abs(
    Number(said[1]) * 3600 + Number(said[2]) * 60 + Number(said[3]) - (h! * 3600 + m! * 60 + sec!),
  );
  return Math.min(gap, 86_400 - gap);
}

describe.runIf(browserAvailable())('log scale and time zones', () => {
  let app: SeededApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;

  const hook = hookOn(() => page);
  const yLabels = () =>
    page
      .locator('.apexcharts-yaxis-label')
      .evaluateAll((els) => els.map((e) => e.textContent ?? '').filter((t) => t !== ''));

  /** The x-axis labels with the instant under each (from its position in the plot and the drawn window). */
  async function xLabelsAt(): Promise<{ text: string; ms: number }[]> {
    const [area, view] = await Promise.all([hook('plotArea'), hook('view')]);
    const { min, max } = view.window!;
    const labels = await page.locator('.apexcharts-xaxis-label').evaluateAll((els) =>
      els
        .map((e) => {
          const box = e.getBoundingClientRect();
          return { text: e.textContent ?? '', center: box.left + box.width / 2 };
        })
        .filter((l) => l.text !== ''),
    );
    return labels.map(({ text, center }) => ({
      text,
      ms: min + ((center - area!.left) / area!.width) * (max - min),
    }));
  }

  /** Hovers AAPL's newest drawn point, where the line is drawn in the chart's current unit. */
  async function hoverAapl(value: (dollars: number) => number): Promise<{ text: string; time: number }> {
    const [time, price] = (await hook('lastDrawnPoint', 'AAPL'))!;
    const [area, view, y] = await Promise.all([hook('plotArea'), hook('view'), hook('yRange')]);
    const { min, max } = view.window!;
    const x = area!.left + ((time - min) / (max - min)) * area!.width - 3;
    const yPx = area!.top + (1 - (value(price) - y!.min) / (y!.max - y!.min)) * area!.height;
    for (const dy of [0, -4, 4, -8, 8]) {
      await page.mouse.move(x, yPx + dy);
      const tooltip = page.getByTestId('chart-tooltip');
      if (await tooltip.isVisible().catch(() => false)) {
        const text = (await tooltip.textContent()) ?? '';
        if (text.includes('AAPL')) return { text, time };
      }
    }
    return { text: '', time };
  }

  beforeAll(async () => {
    app = await startSeededApp();
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      colorScheme: 'light',
      timezoneId: VIEWER_ZONE,
    });
    watch = await watchContext(context, new URL(app.url!).origin);
    page = await context.newPage();
    await page.goto(`${app.url}/`);
    await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
      timeout: 30_000,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('draws lines, bands and axis on a log scale, labelled in dollars at equal ratios', async () => {
    const linear = await yLabels();
    await page.getByTestId('log-toggle').check();
    await expect.poll(async () => (await hook('view')).logScale).toBe(true);
    // labels in dollars, each the one before times one ratio (a linear axis adds one step instead)
    await expect
      .poll(async () => {
        const labels = await yLabels();
        return labels.length >= 3 && labels.join() !== linear.join();
      })
      .toBe(true);
    const dollars = (await yLabels()).map((label) => {
      expect(label).toMatch(/^\$[\d,]+(\.\d+)?$/);
      return Number(label.replace(/[$,]/g, ''));
    });
    const ratios = dollars.slice(1).map((d, i) => d / dollars[i]!);
    for (const ratio of ratios) expect(ratio).toBeCloseTo(ratios[0]!, 1);
    const steps = dollars.slice(1).map((d, i) => d - dollars[i]!);
    expect(Math.abs(steps[steps.length - 1]! - steps[0]!)).toBeGreaterThan(steps[0]! * 0.05);

    // the bands are the 52-week ranges' logs, and the axis holds them
    const { watchlist } = await graphql<{
      watchlist: { ticker: string; low52Week: number; high52Week: number }[];
    }>(app, '{ watchlist { ticker low52Week high52Week } }');
    const bands = await hook('bands');
    expect(bands).toHaveLength(6);
    const y = (await hook('yRange'))!;
    for (const band of bands) {
      const stock = watchlist.find((s) => s.ticker === band.ticker)!;
      expect(band.low).toBeCloseTo(Math.log10(stock.low52Week), 6);
      expect(band.high).toBeCloseTo(Math.log10(stock.high52Week), 6);
      expect(y.min).toBeLessThanOrEqual(band.low);
      expect(y.max).toBeGreaterThanOrEqual(band.high);
    }

    // AAPL's line is where log10 of its price puts it, and its tooltip still says dollars
    const { text } = await hoverAapl(Math.log10);
    expect(text).toContain('AAPL');
    expect(text).toMatch(/\$\d{2,3}\.\d\d/);
    await page.mouse.move(0, 0);
  });

  it('compares on a log scale from 0 % at the window start, and goes back to linear', async () => {
    await page.getByRole('radio', { name: '% Compare' }).check();
    await expect.poll(async () => (await hook('view')).mode).toBe('percent');
    await expect
      .poll(async () => {
        const labels = await yLabels();
        return labels.length >= 3 && labels.every((l) => /^([+−][\d.]+|0)%$/.test(l));
      })
      .toBe(true);
    // the log toggle stays on in compare mode: no bands, and the unit is log10(price ÷ start)
    expect(await page.getByTestId('log-toggle').isDisabled()).toBe(false);
    expect(await hook('bands')).toEqual([]);
    await page.getByRole('radio', { name: '$ Price' }).check();
    await page.getByTestId('log-toggle').uncheck();
    await expect.poll(async () => (await hook('view')).logScale).toBe(false);
    await expect
      .poll(async () => {
        const labels = (await yLabels()).map((l) => Number(l.replace(/[$,]/g, '')));
        const steps = labels.slice(1).map((d, i) => Math.round((d - labels[i]!) * 100));
        return labels.length >= 3 && new Set(steps).size === 1;
      })
      .toBe(true);
  });

  it("reads the viewer's clock by default and New York's when picked: axis, tooltip and last tick", async () => {
    await page.getByRole('radio', { name: '1H', exact: true }).check();
    await expect.poll(async () => (await hook('view')).range).toBe('1h');
    const zone = page.getByTestId('time-zone');
    expect(await zone.inputValue()).toBe('viewer');
    // Chromium's ICU names Kolkata by its older alias
    expect(await zone.locator('option[value=viewer]').textContent()).toMatch(
      /^yours \(Asia\/(Kolkata|Calcutta)\)$/,
    );

    // each label reads the clock at its place on the axis, to the minute
    const labelsRead = async (clockZone: string) => {
      const labels = await xLabelsAt();
      return (
        labels.length >= 3 &&
        labels.every(({ text, ms }) =>
          [-60_000, 0, 60_000].some((slip) =>
            axisLabelsIn(clockZone, Math.round(ms / 60_000) * 60_000 + slip).includes(text),
          ),
        )
      );
    };
    await expect.poll(() => labelsRead(VIEWER_ZONE)).toBe(true);
    const viewerTip = await hoverAapl((p) => p);
    // the point hovered is the newest or one just before it: its clock is within two minutes
    expect(viewerTip.text).toContain('AAPL');
    expect(clockGap(viewerTip.text, VIEWER_ZONE, viewerTip.time)).toBeLessThan(120);
    await page.mouse.move(0, 0);

    await zone.selectOption('exchange');
    await expect.poll(async () => (await hook('view')).timeZone).toBe('exchange');
    await expect.poll(() => labelsRead(EXCHANGE_ZONE)).toBe(true);
    // the window is the same hour: only its labels moved
    const view = await hook('view');
    expect(view.window!.max - view.window!.min).toBeLessThanOrEqual(3_600_000 + 60_000);
    expect(Math.abs(view.window!.max - Date.now())).toBeLessThan(60_000);
    const exchangeTip = await hoverAapl((p) => p);
    expect(exchangeTip.text).toContain('AAPL');
    expect(clockGap(exchangeTip.text, EXCHANGE_ZONE, exchangeTip.time)).toBeLessThan(120);
    await page.mouse.move(0, 0);

    // a live tick's time is said on New York's clock
    await app.tick();
    await expect
      .poll(() => page.getByTestId('last-update').textContent())
      .toMatch(new RegExp(`^Last tick ${clockIn(EXCHANGE_ZONE, app.clock.now().getTime(), true)} ET$`));
  });

  it('keeps the picked clock across a reload, and goes back to the viewer’s', async () => {
    await page.reload();
    await page.waitForFunction(() => window.__stockstreamer?.seriesCount() === 6, undefined, {
      timeout: 30_000,
    });
    expect(await page.getByTestId('time-zone').inputValue()).toBe('exchange');
    expect((await hook('view')).timeZone).toBe('exchange');
    await page.getByTestId('time-zone').selectOption('viewer');
    await expect.poll(async () => (await hook('view')).timeZone).toBe('viewer');
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.offOrigin).toEqual([]);
  });
});
