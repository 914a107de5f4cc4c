import { describe, expect, it } from 'vitest';
import type { DrawnBars, DrawnSeries, Frame } from './chart-frame.ts';
import { barSpan, chartTooltip } from './chart-tooltip.ts';

const T = Date.UTC(2026, 10, 30, 14, 0, 0);
const text = {
  companyName: (ticker: string) => (ticker === 'AAA' ? 'Apples & <Oranges>' : undefined),
  time: (ms: number) => `t+${(ms - T) / 1000}s`,
};

function series(over: Partial<DrawnSeries> = {}): DrawnSeries {
  const points: [number, number][] = [
    [T, 100],
    [T + 5000, 110],
  ];
  return {
    ticker: 'AAA',
    color: '#123456',
    points,
    values: points,
    base: 100,
    markers: [],
    alerts: [],
    drawn: [0, 1],
    band: null,
    ...over,
  };
}

function bars(over: Partial<DrawnBars['run']> = {}): DrawnBars {
  return {
    ticker: 'AAA',
    color: '#654321',
    points: [[T - 3_600_000, 99]],
    values: [[T - 3_600_000, 99]],
    index: [0],
    run: {
      times: [T - 3_600_000],
      ends: [T - 3_600_000 + 5 * 60_000],
      open: [98],
      high: [101],
      low: [97.5],
      close: [99],
      volume: [1234567],
      columnMs: 0,
      ...over,
    },
  };
}

function frame(over: Partial<Frame> = {}): Frame {
  return {
    window: { min: T, max: T + 60_000 },
    series: [series()],
    bars: [],
    extent: null,
    markerPoints: [],
    alertPoints: [],
    historyStart: null,
    ...over,
  };
}

describe('chartTooltip for a point', () => {
  it('shows ticker, company, time, price and the change since the window’s start, escaped', () => {
    const tip = chartTooltip(frame(), 0, 1, text)!;
    expect(tip.html).toContain('<strong class="tip-ticker">AAA</strong>');
    expect(tip.html).toContain('Apples &amp; &lt;Oranges&gt;');
    expect(tip.html).not.toContain('<Oranges>');
    expect(tip.html).toContain('<div class="tip-time">t+5s</div>');
    expect(tip.html).toContain('$110.00');
    expect(tip.html).toMatch(/\+10\.00%<\/span>|10\.00% since/);
    expect(tip.html).toContain("since the window's start");
    expect(tip.readout).toBe('AAA, t+5s, $110.00');
  });

  it('escapes a hostile ticker and colour', () => {
    const hostile = series({ ticker: '<img src=x>', color: '"red"><script>' });
    const tip = chartTooltip(frame({ series: [hostile] }), 0, 0, text)!;
    expect(tip.html).not.toContain('<img');
    expect(tip.html).not.toContain('<script>');
    expect(tip.html).toContain('&lt;img src=x&gt;');
    expect(tip.html).toContain('--series:&quot;red&quot;&gt;&lt;script&gt;');
  });

  it('falls back to the ticker for an unknown company, and shows no change without a base', () => {
    const tip = chartTooltip(frame({ series: [series({ ticker: 'ZZZ', base: undefined })] }), 0, 0, text)!;
    expect(tip.html).toContain('<span class="tip-name">ZZZ</span>');
    expect(tip.html).not.toContain('tip-change');
    const zero = chartTooltip(frame({ series: [series({ base: 0 })] }), 0, 0, text)!;
    expect(zero.html).not.toContain('tip-change');
  });

  it('reads a padded repeat as the last point, and a break or a missing series as nothing', () => {
    expect(chartTooltip(frame(), 0, 40, text)!.readout).toBe('AAA, t+5s, $110.00');
    expect(chartTooltip(frame({ series: [series({ drawn: [0, -1, 1] })] }), 0, 1, text)).toBeNull();
    expect(chartTooltip(null, 0, 0, text)).toBeNull();
    expect(chartTooltip(frame(), 3, 0, text)).toBeNull();
  });
});

describe('chartTooltip for a provider bar', () => {
  it('says it is a bar, not observed live, with its span, OHLC and volume', () => {
    const tip = chartTooltip(frame({ bars: [bars()] }), 1, 0, text)!;
    expect(tip.readout).toBeNull();
    expect(tip.html).toContain('data-kind="bar"');
    expect(tip.html).toContain('provider bar, 5 min: not observed live');
    expect(tip.html).toContain('O $98.00 · H $101.00 · L $97.50 · C $99.00 · volume 1,234,567');
    expect(tip.html).toContain('<div class="tip-time">t+-3600s</div>');
  });

  it('gives a short bar in seconds and leaves out a volume the provider did not give', () => {
    const tip = chartTooltip(
      frame({ bars: [bars({ ends: [T - 3_600_000 + 20_000], volume: [null] })] }),
      1,
      0,
      text,
    )!;
    expect(tip.html).toContain('provider bar, 20 s');
    expect(tip.html).not.toContain('volume');
  });

  it.each([
    [20_000, '20 s'],
    [45_000, '45 s'],
    [60_000, '1 min'],
    [90_000, '90 s'],
    [3_630_000, '61 min'],
    [15 * 60_000, '15 min'],
    [3_600_000, '1 h'],
    [4 * 3_600_000, '4 h'],
    [86_400_000, '1 day'],
    [7 * 86_400_000, '7 days'],
  ])('names a span of %i ms "%s"', (ms, said) => {
    expect(barSpan(ms)).toBe(said);
  });

  it('is nothing at a break in the bar line', () => {
    const broken = { ...bars(), index: [-1] };
    expect(chartTooltip(frame({ bars: [broken] }), 1, 0, text)).toBeNull();
  });
});
