import { describe, expect, it } from 'vitest';
import { type FrameData, firstFrameOptions, frameHistoryWidth, GUESSED_SIZE } from './first-frame-options.ts';
import { SERIES_PALETTE } from './palette.ts';
import { zoneOffsetMs } from './time-zone.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-04T15:00:00Z');

/** A week of a point every 10 minutes per ticker, flat at `price` but for one high and one low. */
function week(ticker: string, price: number) {
  const times: number[] = [];
  const prices: number[] = [];
  for (let t = NOW - 7 * DAY + 60_000; t <= NOW; t += 600_000) {
    times.push(t);
    prices.push(price);
  }
  prices[10] = price * 1.1;
  prices[20] = price * 0.9;
  return { ticker, times, prices };
}

const stock = (ticker: string, enabled = true) => ({
  ticker,
  companyName: `${ticker} Corp`,
  enabled,
  low52Week: 10,
  high52Week: 500,
});

const data: FrameData = {
  watchlist: [stock('GE'), stock('OFF', false), stock('AAPL')],
  series: [week('GE', 300), week('AAPL', 270)],
  bars: [],
  now: NOW,
};

describe('firstFrameOptions', () => {
  it('draws the enabled tickers over the whole week, in their colours, as SVG', () => {
    const options = firstFrameOptions(data, { ...GUESSED_SIZE, timeZone: null }, 'UTC')!;
    expect(options.series?.map((s) => (s as { name: string }).name)).toEqual(['GE', 'AAPL']);
    // the watchlist's order decides the colours, as on the page: OFF keeps its slot
    expect(options.colors).toEqual([SERIES_PALETTE[0], SERIES_PALETTE[2]]);
    expect(options.chart?.renderer).toBe('svg');
    expect(options.xaxis?.min).toBe(NOW - 7 * DAY);
    expect(options.xaxis?.max).toBe(NOW);
    // the y-axis holds the 52-week bands as well as the lines
    const { min, max } = options.yaxis as { min: number; max: number };
    expect(min).toBeLessThanOrEqual(10);
    expect(max).toBeGreaterThanOrEqual(500);
    expect(options.annotations?.yaxis?.filter((a) => a.y2 !== undefined)).toHaveLength(2);
    // no keyboard or screen reader reaches a picture; its font names survive ApexCharts' attribute
    expect(options.chart?.accessibility?.enabled).toBe(false);
    expect(options.chart?.fontFamily).not.toContain('"');
  });

  it('keeps every point the frame drew and no more: no padding for a canvas it does not use', () => {
    const options = firstFrameOptions(data, { ...GUESSED_SIZE, timeZone: null }, 'UTC')!;
    const [ge, aapl] = options.series as { data: [number, number][] }[];
    expect(ge!.data.length).toBe(data.series[0]!.times.length);
    expect(aapl!.data.length).toBe(data.series[1]!.times.length);
  });

  it("moves the axis from the server's clock to the asked zone", () => {
    const options = firstFrameOptions(data, { ...GUESSED_SIZE, timeZone: 'America/New_York' }, 'UTC')!;
    const from = NOW - 7 * DAY;
    expect(options.xaxis?.min).toBe(from + zoneOffsetMs('America/New_York', from));
    expect(zoneOffsetMs('America/New_York', from)).toBe(-5 * 3_600_000);
  });

  it('is null when there is nothing to draw', () => {
    expect(firstFrameOptions({ ...data, series: [] }, { ...GUESSED_SIZE, timeZone: null }, 'UTC')).toBeNull();
    expect(
      firstFrameOptions(
        { ...data, watchlist: [stock('GE', false)] },
        { ...GUESSED_SIZE, timeZone: null },
        'UTC',
      ),
    ).toBeNull();
  });

  it('reads one history column per drawn column of the plot', () => {
    expect(frameHistoryWidth(1206)).toBe(568);
    expect(frameHistoryWidth(50)).toBe(10);
  });
});
