import { afterAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../test/helpers/services.ts';
import { FRAME_COOKIE, type FrameRequest, RESTORED_OTHER_VIEW } from '../../web/src/first-frame.ts';
import { type FrameData, GUESSED_SIZE } from '../../web/src/first-frame-options.ts';
import {
  createFirstFrame,
  createWorkerDrawer,
  type FirstFrameDeps,
  FRAME_FRESH_MS,
  FRAME_STALE_MS,
  type FrameDrawer,
  MIN_DRAW_GAP_MS,
} from './first-frame.ts';

const DAY = 86_400_000;
const START = Date.parse('2026-12-04T15:00:00Z');

function weekOf(ticker: string, price: number, now: number) {
  const times: number[] = [];
  const prices: number[] = [];
  for (let t = now - 7 * DAY; t <= now; t += 300_000) {
    times.push(t);
    prices.push(Math.round((price + 10 * Math.sin(t / 3_600_000)) * 100) / 100);
  }
  return { ticker, times, prices };
}

const TICKERS = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'];
function readWeek(_from: Date, to: Date): Promise<Omit<FrameData, 'now'>> {
  return Promise.resolve({
    watchlist: TICKERS.map((ticker) => ({
      ticker,
      companyName: null,
      enabled: true,
      low52Week: 50,
      high52Week: 400,
    })),
    series: TICKERS.map((ticker, i) => weekOf(ticker, 100 + 40 * i, to.getTime())),
    bars: [],
  });
}

/** A drawer that answers at once with which draw it was, and remembers what it was asked. */
function countingDrawer(): FrameDrawer & { asked: FrameRequest[] } {
  const asked: FrameRequest[] = [];
  return {
    asked,
    draw: (_data, request) => {
      asked.push(request);
      return Promise.resolve(`<frame ${asked.length}>`);
    },
    close: () => Promise.resolve(),
  };
}

/** A first frame over the seeded week at START, with the test's drawer and clocks. */
function weekFrame(deps: Partial<FirstFrameDeps> & Pick<FirstFrameDeps, 'draw'>) {
  return createFirstFrame({ read: readWeek, now: () => START, logger: silentLogger, ...deps });
}

describe('createFirstFrame', () => {
  it('draws the guessed size without a cookie, and the asked size and clock with one', async () => {
    const draw = countingDrawer();
    const frame = weekFrame({ elapsed: () => START, draw });
    await frame.markup(undefined);
    let now = START;
    const later = weekFrame({ elapsed: () => (now += MIN_DRAW_GAP_MS), draw });
    await later.markup(`${FRAME_COOKIE}=1000x440~America/New_York`);
    await later.markup(`${FRAME_COOKIE}=1000x440~Not/AZone`);
    expect(draw.asked).toEqual([
      { ...GUESSED_SIZE, timeZone: null },
      { width: 1000, height: 440, timeZone: 'America/New_York' },
      { ...GUESSED_SIZE, timeZone: null },
    ]);
  });

  it('serves a frame as it is while fresh, and an older one while the next is drawn', async () => {
    const draw = countingDrawer();
    let now = START;
    const frame = weekFrame({ elapsed: () => now, draw });
    expect((await frame.markup(undefined)).chart).toBe('<frame 1>');
    now += FRAME_FRESH_MS - 1;
    expect((await frame.markup(undefined)).chart).toBe('<frame 1>');
    now += 1;
    // stale: answered at once with the old one, the new one drawn meanwhile
    expect((await frame.markup(undefined)).chart).toBe('<frame 1>');
    expect((await frame.markup(undefined)).chart).toBe('<frame 2>');
    now += FRAME_STALE_MS;
    expect((await frame.markup(undefined)).chart).toBe('<frame 3>');
    expect(draw.asked).toHaveLength(3);
  });

  it('draws one frame at a time, with a gap between draws, whatever the cookies ask', async () => {
    const draw = countingDrawer();
    let now = START;
    const frame = weekFrame({ elapsed: () => now, draw });
    const sizes = Array.from({ length: 50 }, (_, i) => `${FRAME_COOKIE}=${300 + i}x400~UTC`);
    const answers = await Promise.all(sizes.map((cookie) => frame.markup(cookie)));
    expect(draw.asked).toHaveLength(1);
    expect(answers.map((a) => a.chart).filter((chart) => chart !== '')).toEqual(['<frame 1>']);
    now += MIN_DRAW_GAP_MS;
    expect((await frame.markup(sizes[7])).chart).toBe('<frame 2>');
  });

  it("answers without a frame when the draw takes longer than the page's wait, and keeps it for the next", async () => {
    let finish: (markup: string) => void = () => {};
    const slow: FrameDrawer = {
      draw: () => new Promise((resolve) => (finish = resolve)),
      close: () => Promise.resolve(),
    };
    const frame = weekFrame({ draw: slow, waitMs: 20 });
    expect((await frame.markup(undefined)).chart).toBe('');
    finish('<late frame>');
    expect((await frame.markup(undefined)).chart).toBe('<late frame>');
  });

  it('logs a failed read or draw and answers without a frame', async () => {
    const warn = vi.fn();
    const logger = { ...silentLogger, warn } as unknown as typeof silentLogger;
    let now = START;
    const failing = weekFrame({
      read: () => Promise.reject(new Error('the database is away')),
      elapsed: () => (now += FRAME_STALE_MS),
      logger,
      draw: countingDrawer(),
    });
    await expect(failing.markup(undefined)).resolves.toEqual({ chart: '', cards: '' });
    const broken: FrameDrawer = {
      draw: () => Promise.reject(new Error('no renderer')),
      close: async () => {},
    };
    const failingDraw = weekFrame({ elapsed: () => (now += FRAME_STALE_MS), logger, draw: broken });
    // the watchlist was read: its cards' room is held even without a frame
    const withoutFrame = await failingDraw.markup(undefined);
    expect(withoutFrame.chart).toBe('');
    expect(withoutFrame.cards.match(/<article class="card" data-placeholder/g)).toHaveLength(6);
    expect(warn.mock.calls.map(([fields]) => (fields as { err: Error }).err.message)).toEqual([
      'the database is away',
      'no renderer',
    ]);
  });
});

describe('createWorkerDrawer', () => {
  const drawer = createWorkerDrawer();
  afterAll(() => drawer.close());

  it("draws a week of six lines with ApexCharts' SSR renderer in a worker thread, as a picture", async () => {
    const read = await readWeek(new Date(START - 7 * DAY), new Date(START));
    const markup = await drawer.draw({ ...read, now: START }, { width: 1000, height: 440, timeZone: 'UTC' });
    // the id index.html's render-blocking <link rel="expect"> waits for
    expect(markup).toMatch(
      /^<div class="first-frame" id="first-frame" data-testid="first-frame" aria-hidden="true"/,
    );
    expect(markup).toContain('data-size="1000x440" data-times="on" data-zone="UTC"');
    expect(markup.match(/class="apexcharts-series"/g)).toHaveLength(6);
    expect(markup.match(/apexcharts-yaxis-label/g)?.length).toBeGreaterThan(3);
    // a picture: nothing to focus, no application role, no animation copies of the paths
    expect(markup).not.toMatch(/tabindex|role="application"|pathFrom|pathTo/);
    // shown only where the chart's box is the size it was drawn for
    expect(markup).toContain('@container chart (width < 996px) or (width > 1004px)');
    // and not where the page's controls show another view
    expect(markup).toContain(`:root:has(${RESTORED_OTHER_VIEW}) .first-frame { display: none; }`);
  });

  it('answers draws after a worker was stopped by starting another', async () => {
    await drawer.close();
    const read = await readWeek(new Date(START - 7 * DAY), new Date(START));
    const markup = await drawer.draw({ ...read, now: START }, { ...GUESSED_SIZE, timeZone: null });
    expect(markup).toContain('data-times="off"');
  });
});
