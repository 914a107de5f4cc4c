import { describe, expect, it } from 'vitest';
import { fixture, NOW, parserHttp } from './fixtures.spec-helper.ts';
import {
  isYahooUnprocessable,
  parseYahooChart,
  yahooInterval,
  yahooProfile,
  yahooQuote,
  yahooRange,
} from './yahoo.ts';

const http = parserHttp('yahoo');

describe('yahoo answers', () => {
  const chart = parseYahooChart(http, 'AAPL', 200, fixture('yahoo/chart.json'));

  it('reads price, trade time, name and 52-week range from the chart meta', () => {
    expect(yahooQuote(http, 'AAPL', chart, NOW)).toEqual({
      symbol: 'AAPL',
      price: 237.33,
      time: new Date(1732741200 * 1000),
    });
    expect(yahooProfile('AAPL', chart)).toEqual({
      symbol: 'AAPL',
      name: 'Apple Inc.',
      logoUrl: '/logos/AAPL.svg',
    });
    expect(yahooRange(http, 'AAPL', chart)).toEqual({ symbol: 'AAPL', high: 237.81, low: 164.08 });
  });

  it('derives the range from the daily bars when the meta has none', () => {
    const body = fixture<{ chart: { result: { meta: Record<string, unknown> }[] } }>('yahoo/chart.json');
    delete body.chart.result[0]!.meta.fiftyTwoWeekHigh;
    const derived = parseYahooChart(http, 'AAPL', 200, body);
    expect(yahooRange(http, 'AAPL', derived)).toEqual({ symbol: 'AAPL', high: 235.69, low: 233.81 });
  });

  it('reads a 404 "Not Found" as an unknown symbol', () => {
    expect(() => parseYahooChart(http, 'ZZZZ', 404, fixture('yahoo/chart-not-found.json'))).toThrow(
      expect.objectContaining({ name: 'UnknownSymbolError', symbol: 'ZZZZ' }),
    );
  });

  it('refuses a meta without a usable price', () => {
    const body = fixture<{ chart: { result: { meta: Record<string, unknown> }[] } }>('yahoo/chart.json');
    body.chart.result[0]!.meta.regularMarketPrice = -3;
    expect(() => yahooQuote(http, 'AAPL', parseYahooChart(http, 'AAPL', 200, body), NOW)).toThrow(
      /^yahoo: \/v8\/finance\/chart answered an unusable regularMarketPrice \(wanted a price above zero\)/,
    );
  });
});

describe('yahooInterval', () => {
  const now = Date.parse('2026-12-08T18:00:00Z');
  it.each([
    [0.5, '1m', 60],
    [29, '1m', 60],
    [30, '5m', 300],
    [59, '5m', 300],
    [60, '1h', 3600],
    [729, '1h', 3600],
    [730, '1d', 86_400],
    [3650, '1d', 86_400],
  ])('a span starting %s days ago → %s', (days, interval, seconds) => {
    expect(yahooInterval(now - days * 86_400_000, now)).toMatchObject({ interval, seconds });
  });

  it('knows the 422 Yahoo answers for an interval it no longer keeps that far back', () => {
    expect(isYahooUnprocessable(fixture('yahoo/chart-unprocessable.json'))).toBe(true);
    expect(isYahooUnprocessable(fixture('yahoo/chart-not-found.json'))).toBe(false);
  });
});
