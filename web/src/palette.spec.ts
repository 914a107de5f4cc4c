import { describe, expect, it } from 'vitest';
import {
  assignSeriesColors,
  contrastRatio,
  DARK_SURFACE,
  LIGHT_SURFACE,
  SERIES_PALETTE,
  seriesColor,
} from './palette.ts';

describe('contrastRatio', () => {
  it.each([
    ['#000000', '#ffffff', 21],
    ['#ffffff', '#000000', 21],
    ['#777777', '#777777', 1],
    ['#767676', '#ffffff', 4.54], // the classic "smallest grey that passes AA on white"
  ])('%s on %s is %s', (a, b, expected) => {
    expect(contrastRatio(a, b)).toBeCloseTo(expected, 2);
  });

  it('rejects what is not #rrggbb', () => {
    expect(() => contrastRatio('red', '#ffffff')).toThrow(/#rrggbb/);
  });
});

describe('SERIES_PALETTE', () => {
  // A line must stay visible whichever scheme the viewer uses: 3:1 is WCAG's bar for graphics.
  it.each(SERIES_PALETTE.map((colour) => [colour]))(
    '%s reads on the light and the dark surface',
    (colour) => {
      expect(contrastRatio(colour, LIGHT_SURFACE)).toBeGreaterThanOrEqual(3);
      expect(contrastRatio(colour, DARK_SURFACE)).toBeGreaterThanOrEqual(3);
    },
  );

  it('has no colour twice', () => {
    expect(new Set(SERIES_PALETTE.map((c) => c.toLowerCase())).size).toBe(SERIES_PALETTE.length);
  });
});

describe('seriesColor', () => {
  const n = SERIES_PALETTE.length;
  it.each([
    [0, SERIES_PALETTE[0]],
    [1, SERIES_PALETTE[1]],
    [n - 1, SERIES_PALETTE[n - 1]],
    [n, SERIES_PALETTE[0]], // repeats past the end, as ApexCharts does with the same list
    [n + 2, SERIES_PALETTE[2]],
  ])('series %s gets %s', (index, expected) => {
    expect(seriesColor(index)).toBe(expected);
  });
});

describe('assignSeriesColors', () => {
  const all = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'];

  it('gives each ticker the colour of its place in the watchlist', () => {
    const colors = assignSeriesColors(all, all);
    expect(all.map((t) => colors.get(t))).toEqual(SERIES_PALETTE.slice(0, 6));
  });

  it('keeps the other lines’ colours when one is removed', () => {
    const withoutNvda = all.filter((t) => t !== 'NVDA');
    const before = assignSeriesColors(all, all);
    const after = assignSeriesColors(all, withoutNvda);
    for (const ticker of withoutNvda) expect(after.get(ticker)).toBe(before.get(ticker));
  });

  it('never gives two watched tickers the same colour while the palette lasts', () => {
    const many = Array.from({ length: SERIES_PALETTE.length + 3 }, (_, i) => `T${i}`);
    // watch the first and the ones whose preferred slot repeats it
    const watched = [many[0]!, many[SERIES_PALETTE.length]!, many[SERIES_PALETTE.length + 1]!, many[1]!];
    const colors = assignSeriesColors(many, watched);
    expect(new Set(watched.map((t) => colors.get(t))).size).toBe(watched.length);
  });
});
