import { describe, expect, it, vi } from 'vitest';
import type { DrawnBars, DrawnSeries, Frame } from './chart-frame.ts';
import {
  BAR_DASH,
  bandAnnotations,
  baseOptions,
  CANVAS_POINTS,
  frameOptions,
  initialOptions,
  padToLongest,
  withBreaks,
} from './chart-options.ts';
import type { Point } from './series-store.ts';

const T = Date.UTC(2026, 10, 30, 14, 0, 0);

function series(ticker: string, points: Point[], over: Partial<DrawnSeries> = {}): DrawnSeries {
  return {
    ticker,
    color: '#0a0b0c',
    points,
    values: points,
    base: points[0]?.[1],
    markers: [],
    alerts: [],
    drawn: points.map((_, i) => i),
    band: null,
    ...over,
  };
}

function frame(over: Partial<Frame> = {}): Frame {
  return {
    window: { min: T, max: T + 60_000 },
    series: [],
    bars: [],
    extent: null,
    markerPoints: [],
    alertPoints: [],
    historyStart: null,
    ...over,
  };
}

const context = { toAxis: (ms: number) => ms + 1000, axisLabel: String, focused: false, noDataText: 'none' };

/** `n` points a second apart from T. */
const line = (n: number, price = 10): Point[] => Array.from({ length: n }, (_, i) => [T + i * 1000, price]);

type Data = [number, number | null][];
const dataOf = (options: ReturnType<typeof frameOptions>) =>
  (options.series as { data: Data }[]).map((s) => s.data);

describe('frameOptions', () => {
  it('puts the window and every point on the chosen clock’s axis', () => {
    const options = frameOptions(frame({ series: [series('AAA', line(3))] }), context);
    expect(options.xaxis).toEqual({ min: T + 1000, max: T + 61_000 });
    expect(dataOf(options)[0]!.map(([x]) => x)).toEqual([T + 1000, T + 2000, T + 3000]);
  });

  it('breaks a line with a null halfway between the points either side of a gap', () => {
    const points: Point[] = [
      [T, 1],
      [T + 1000, 2],
      [T + 9000, 3],
    ];
    expect(withBreaks({ values: points, drawn: [0, 1, -1, 2] })).toEqual([
      [T, 1],
      [T + 1000, 2],
      [T + 5000, null],
      [T + 9000, 3],
    ]);
  });

  it('draws provider bars after the observed lines, dashed, in their ticker’s colour', () => {
    const bars: DrawnBars = {
      ticker: 'AAA',
      color: '#ff0000',
      points: [[T, 5]],
      values: [[T, 5]],
      index: [0],
      run: { times: [T], ends: [T], open: [5], high: [5], low: [5], close: [5], volume: [null], columnMs: 0 },
    };
    const options = frameOptions(
      frame({ series: [series('AAA', line(2)), series('BBB', line(2))], bars: [bars] }),
      context,
    );
    expect((options.series as { name: string }[]).map((s) => s.name)).toEqual([
      'AAA',
      'BBB',
      'AAA provider bars',
    ]);
    expect(options.stroke?.dashArray).toEqual([0, 0, BAR_DASH]);
    expect(options.colors).toEqual(['#0a0b0c', '#0a0b0c', '#ff0000']);
  });

  it.each([
    { total: CANVAS_POINTS - 1, focused: false, renderer: 'svg', padded: false },
    { total: CANVAS_POINTS, focused: false, renderer: 'canvas', padded: true },
    { total: CANVAS_POINTS, focused: true, renderer: 'canvas', padded: false },
  ])('$total points, focused $focused: $renderer, padded $padded', ({ total, focused, renderer, padded }) => {
    const long = line(total - 10);
    const short = line(10, 20);
    const options = frameOptions(frame({ series: [series('AAA', long), series('BBB', short)] }), {
      ...context,
      focused,
    });
    expect(options.chart?.renderer).toBe(renderer);
    const [, shortData] = dataOf(options);
    expect(shortData!.length).toBe(padded ? long.length : 10);
    // a padded line repeats its last point: nothing more is drawn
    expect(new Set(shortData!.slice(9).map(([x, y]) => `${x},${y}`)).size).toBe(1);
  });

  it('fits the y-axis to the frame’s extent on round numbers', () => {
    const fitted = frameOptions(frame({ extent: { min: 7.79, max: 333.91 } }), context);
    expect(fitted.yaxis).toMatchObject({ min: 0, max: 400, tickAmount: 4, forceNiceScale: false });
    const empty = frameOptions(frame(), context);
    expect(empty.yaxis).toMatchObject({ min: undefined, max: undefined });
    expect(empty.yaxis).not.toHaveProperty('tickAmount');
  });

  it('marks where history starts on the axis, and only then', () => {
    expect(frameOptions(frame(), context).annotations?.xaxis).toEqual([]);
    const marked = frameOptions(frame({ historyStart: T + 30_000 }), context).annotations?.xaxis;
    expect(marked).toMatchObject([
      { id: 'history-starts', x: T + 31_000, label: { text: 'history starts' } },
    ]);
  });

  it('says what the page says when there is nothing to draw', () => {
    expect(frameOptions(frame(), { ...context, noDataText: 'Every line is hidden' }).noData).toEqual({
      text: 'Every line is hidden',
    });
  });

  it('labels the y-axis with the labeller it is given', () => {
    const labels = frameOptions(frame(), { ...context, axisLabel: (v) => `$${v}` }).yaxis as {
      labels: { formatter(v: number): string };
    };
    expect(labels.labels.formatter(12)).toBe('$12');
  });
});

describe('padToLongest', () => {
  it('pads every line to the longest with its last point, except a line ending in a break', () => {
    const data: { data: Data }[] = [
      {
        data: [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
      },
      { data: [[1, 5]] },
      {
        data: [
          [1, 7],
          [2, null],
        ],
      },
      { data: [] },
    ];
    padToLongest(data);
    expect(data.map((s) => s.data)).toEqual([
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      [
        [1, 5],
        [1, 5],
        [1, 5],
      ],
      [
        [1, 7],
        [2, null],
      ],
      [],
    ]);
  });
});

describe('bandAnnotations', () => {
  it('is a faint fill edged top and bottom, with an id safe for a selector', () => {
    const annotations = bandAnnotations({ ticker: 'BRK.B', color: '#112233', band: { low: 10, high: 20 } });
    expect(annotations.map((a) => a.id)).toEqual(['band-BRK_B', 'band-BRK_B-low', 'band-BRK_B-high']);
    expect(annotations[0]).toMatchObject({ y: 10, y2: 20, fillColor: '#112233' });
    expect(annotations[0]!.opacity).toBeLessThan(0.1);
    expect(annotations.slice(1).map((a) => [a.y, a.borderColor])).toEqual([
      [10, '#112233b3'],
      [20, '#112233b3'],
    ]);
  });

  it('is nothing without a band', () => {
    expect(bandAnnotations({ ticker: 'AAA', color: '#000', band: null })).toEqual([]);
  });

  it('sits in the frame options for each series with a band', () => {
    const banded = series('AAA', line(2), { band: { low: 1, high: 2 } });
    const options = frameOptions(frame({ series: [banded, series('BBB', line(2))] }), context);
    expect(options.annotations?.yaxis?.map((a) => a.id)).toEqual([
      'band-AAA',
      'band-AAA-low',
      'band-AAA-high',
    ]);
  });
});

describe('baseOptions and initialOptions', () => {
  const hooks = {
    axisLabel: String,
    tooltip: vi.fn(() => '<div>tip</div>'),
    reset: vi.fn(),
    events: {},
    noDataText: 'Loading prices…',
  };

  it('routes the tooltip and the page’s reset button to the hooks', () => {
    const base = baseOptions(hooks);
    const custom = base.tooltip?.custom as (o: { seriesIndex: number; dataPointIndex: number }) => string;
    expect(custom({ seriesIndex: 2, dataPointIndex: 7 })).toBe('<div>tip</div>');
    expect(hooks.tooltip).toHaveBeenCalledWith(2, 7);
    const reset = base.chart?.toolbar?.tools?.customIcons?.[0] as { click(): void };
    reset.click();
    expect(hooks.reset).toHaveBeenCalledOnce();
    expect(base.chart?.toolbar?.tools?.reset).toBe(false);
  });

  it('creates the chart with the fixed options and the first frame’s merged', () => {
    const base = baseOptions(hooks);
    const first = frameOptions(frame({ series: [series('AAA', line(2))] }), context);
    const options = initialOptions(base, first);
    expect(options.chart).toMatchObject({ type: 'line', renderer: 'svg', animations: { enabled: false } });
    expect(options.stroke).toMatchObject({ width: 2, dashArray: [0] });
    expect(options.xaxis).toMatchObject({ type: 'datetime', min: T + 1000 });
    expect(options.series).toBe(first.series);
  });
});
