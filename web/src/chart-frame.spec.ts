import { describe, expect, it } from 'vitest';
import {
  bandsShown,
  buildFrame,
  type ChartStock,
  type ChartView,
  type FrameInput,
  liveWindowOf,
} from './chart-frame.ts';
import type { BarRun } from './provider-bars.ts';
import { createSeriesStore, type Point } from './series-store.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 30, 15, 0, 0);

function stock(ticker: string, low: number | null = 90, high: number | null = 210): ChartStock {
  return { ticker, companyName: `${ticker} Inc.`, color: '#123456', low52Week: low, high52Week: high };
}

/** A point every 5 s over [from, to], priced by `price(i)`. */
function ticks(
  from: number,
  to: number,
  price: (i: number) => number,
): { times: number[]; prices: number[] } {
  const times: number[] = [];
  const prices: number[] = [];
  for (let t = from, i = 0; t <= to; t += 5000, i++) {
    times.push(t);
    prices.push(price(i));
  }
  return { times, prices };
}

function input(
  over: Partial<FrameInput> & { series?: Record<string, { times: number[]; prices: number[] }> },
) {
  const series = over.series ?? {
    AAA: ticks(NOW - HOUR, NOW, (i) => 100 + (i % 10)),
    BBB: ticks(NOW - HOUR, NOW, (i) => 200 - (i % 7)),
  };
  const store = createSeriesStore();
  store.setTickers(Object.keys(series));
  store.mergeHistory(Object.entries(series).map(([ticker, s]) => ({ ticker, ...s })));
  const view: ChartView = {
    range: '1h',
    mode: 'price',
    logScale: false,
    timeZone: 'viewer',
    following: true,
    window: null,
  };
  return {
    store,
    stocks: Object.keys(series).map((t) => stock(t)),
    hidden: new Set<string>(),
    bandsOn: true,
    bars: new Map(),
    alerts: new Map(),
    width: 1000,
    now: NOW,
    ...over,
    view: { ...view, ...over.view },
  } satisfies FrameInput;
}

describe('buildFrame windowing', () => {
  it('follows live: the picked range ending now, each visible line in watchlist order', () => {
    const frame = buildFrame(input({}));
    expect(frame.window).toEqual({ min: NOW - HOUR, max: NOW });
    expect(frame.series.map((s) => s.ticker)).toEqual(['AAA', 'BBB']);
    expect(frame.series[0]!.points[0]).toEqual([NOW - HOUR, 100]);
    expect(frame.series[0]!.points.at(-1)![0]).toBe(NOW);
  });

  it('draws a zoomed window with the rest of the series as overview around it', () => {
    const window = { min: NOW - 30 * 60_000, max: NOW - 20 * 60_000 };
    const frame = buildFrame(input({ view: { following: false, window } as ChartView }));
    expect(frame.window).toEqual(window);
    const times = frame.series[0]!.points.map(([t]) => t);
    expect(times.some((t) => t < window.min)).toBe(true);
    expect(times.some((t) => t > window.max)).toBe(true);
    // full detail inside the window: every 5 s tick there
    expect(times.filter((t) => t >= window.min && t <= window.max)).toHaveLength(121);
  });

  it('reduces a line to at most four points per column of the plot', () => {
    const frame = buildFrame(input({ width: 100 }));
    expect(frame.series[0]!.points.length).toBeLessThanOrEqual((100 / 2) * 4 + 2);
  });

  it('leaves out hidden tickers and tickers the store does not hold', () => {
    const base = input({});
    const frame = buildFrame({ ...base, hidden: new Set(['AAA']), stocks: [...base.stocks, stock('ZZZ')] });
    expect(frame.series.map((s) => s.ticker)).toEqual(['BBB']);
  });

  it('"all" reaches back as far as the data or the provider bars, whichever starts first', () => {
    const base = input({ view: { range: 'all' } as ChartView });
    expect(liveWindowOf(base)).toEqual({ min: NOW - HOUR, max: NOW });
    const run = barRun([NOW - 3 * HOUR], [150]);
    expect(liveWindowOf({ ...base, bars: new Map([['AAA', run]]) }).min).toBe(NOW - 3 * HOUR);
  });
});

describe('buildFrame units', () => {
  it('compare mode draws % change from the price at the window start', () => {
    const frame = buildFrame(input({ view: { mode: 'percent' } as ChartView }));
    const aaa = frame.series[0]!;
    expect(aaa.base).toBe(100);
    expect(aaa.values[0]).toEqual([NOW - HOUR, 0]);
    expect(aaa.values[5]![1]).toBeCloseTo(5);
    // tooltips keep reading dollars
    expect(aaa.points[5]![1]).toBe(105);
  });

  it.each([
    { mode: 'price' as const, price: 105, expected: Math.log10(105) },
    { mode: 'percent' as const, price: 105, expected: Math.log10(1.05) },
  ])('a log axis draws log10 of the $mode value', ({ mode, expected }) => {
    const frame = buildFrame(input({ view: { mode, logScale: true } as ChartView }));
    expect(frame.series[0]!.values[5]![1]).toBeCloseTo(expected, 10);
  });
});

describe('buildFrame bands', () => {
  it('draws bands in price mode when on, and fits the axis to them', () => {
    const frame = buildFrame(input({}));
    expect(frame.series[0]!.band).toEqual({ low: 90, high: 210 });
    expect(frame.extent!.min).toBeLessThan(90);
    expect(frame.extent!.max).toBeGreaterThan(210);
  });

  it.each([
    { name: 'switched off', over: { bandsOn: false } },
    { name: 'compare mode', over: { view: { mode: 'percent' } as ChartView } },
  ])('draws none when $name, and the axis fits the lines alone', ({ over }) => {
    const frame = buildFrame(input(over));
    expect(frame.series.map((s) => s.band)).toEqual([null, null]);
    expect(frame.extent!.min).toBeGreaterThan(over.bandsOn === false ? 90 : -50);
  });

  it('draws none for a missing or upside-down 52-week range', () => {
    const base = input({});
    const frame = buildFrame({ ...base, stocks: [stock('AAA', null, 120), stock('BBB', 300, 100)] });
    expect(frame.series.map((s) => s.band)).toEqual([null, null]);
  });

  it('bandsShown: on and in price mode only', () => {
    expect(bandsShown(true, 'price')).toBe(true);
    expect(bandsShown(false, 'price')).toBe(false);
    expect(bandsShown(true, 'percent')).toBe(false);
  });
});

describe('buildFrame history start, gaps, markers and alerts', () => {
  it('marks where history starts when it leaves more than 1 % of the window blank', () => {
    const late = buildFrame(input({ series: { AAA: ticks(NOW - HOUR / 2, NOW, () => 100) } }));
    expect(late.historyStart).toBe(NOW - HOUR / 2);
    const early = buildFrame(input({ series: { AAA: ticks(NOW - HOUR + 30_000, NOW, () => 100) } }));
    expect(early.historyStart).toBeNull();
  });

  it('breaks a line across an outage', () => {
    const before = ticks(NOW - HOUR, NOW - 40 * 60_000, () => 100);
    const after = ticks(NOW - 20 * 60_000, NOW, () => 101);
    const series = {
      AAA: { times: [...before.times, ...after.times], prices: [...before.prices, ...after.prices] },
    };
    const { drawn, points } = buildFrame(input({ series })).series[0]!;
    const gap = drawn.indexOf(-1);
    expect(gap).toBeGreaterThan(0);
    expect(drawn.filter((i) => i === -1)).toHaveLength(1);
    expect(points[drawn[gap - 1]!]![0]).toBe(NOW - 40 * 60_000);
    expect(points[drawn[gap + 1]!]![0]).toBe(NOW - 20 * 60_000);
  });

  it('marks changes only where the points in view are far enough apart', () => {
    const series = { AAA: ticks(NOW - 10 * 60_000, NOW, (i) => (i < 60 ? 100 : 101)) };
    const wide = buildFrame(input({ series, view: { range: '1h' } as ChartView, width: 2000 }));
    expect(wide.series[0]!.markers).toEqual([
      [NOW - 10 * 60_000, 100],
      [NOW - 5 * 60_000, 101],
    ]);
    const narrow = buildFrame(input({ series, width: 300 }));
    expect(narrow.series[0]!.markers).toEqual([]);
  });

  it('keeps the alerts inside the window, in the drawn unit', () => {
    const alerts = new Map<string, Point[]>([
      [
        'AAA',
        [
          [NOW - 2 * HOUR, 100],
          [NOW - HOUR + 25_000, 105],
        ],
      ],
    ]);
    const frame = buildFrame(input({ alerts, view: { mode: 'percent' } as ChartView }));
    expect(frame.series[0]!.alerts).toEqual([[NOW - HOUR + 25_000, 105]]);
    expect(frame.alertPoints[0]![0]![1]).toBeCloseTo(5);
  });
});

function barRun(times: number[], close: number[]): BarRun {
  return {
    times,
    ends: times.map((t) => t + 60 * 60_000),
    open: close,
    high: close,
    low: close,
    close,
    volume: close.map(() => null),
    columnMs: 0,
  };
}

describe('buildFrame provider bars', () => {
  it('draws bars where no tick was observed, and rebases compare mode to their close', () => {
    const series = { AAA: ticks(NOW - HOUR / 2, NOW, () => 110) };
    const bars = new Map([['AAA', barRun([NOW - 3 * HOUR, NOW - 2 * HOUR], [100, 105])]]);
    const window = { min: NOW - 2.5 * HOUR, max: NOW };
    const frame = buildFrame(
      input({ series, bars, view: { mode: 'percent', following: false, window } as ChartView }),
    );
    expect(frame.bars).toHaveLength(1);
    expect(frame.bars[0]!.points).toEqual([
      [NOW - 3 * HOUR, 100],
      [NOW - 2 * HOUR, 105],
    ]);
    // no tick yet at the window's start: the close of the bar there is the base
    expect(frame.series[0]!.base).toBe(100);
    expect(frame.bars[0]!.values[1]![1]).toBeCloseTo(5);
    expect(frame.series[0]!.values.at(-1)![1]).toBeCloseTo(10);
    // following live over a week, the bars are where history starts
    const live = buildFrame(input({ series, bars, view: { range: '7d' } as ChartView }));
    expect(live.historyStart).toBe(NOW - 3 * HOUR);
  });
});
