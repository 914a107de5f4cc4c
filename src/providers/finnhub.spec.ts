import { describe, expect, it } from 'vitest';
import { parseFinnhubMetric, parseFinnhubProfile, parseFinnhubQuote } from './finnhub.ts';
import { fixture, NOW, parserHttp } from './fixtures.spec-helper.ts';

const http = parserHttp('finnhub');

describe('finnhub answers', () => {
  it('reads a quote with its trade time', () => {
    expect(parseFinnhubQuote(http, 'AAPL', fixture('finnhub/quote.json'), NOW)).toEqual({
      symbol: 'AAPL',
      price: 237.33,
      time: new Date(1732741200 * 1000),
    });
  });

  it('knows its answer for an unknown symbol: all zeros', () => {
    expect(() => parseFinnhubQuote(http, 'ZZZZ', fixture('finnhub/quote-unknown.json'), NOW)).toThrow(
      expect.objectContaining({ name: 'UnknownSymbolError', symbol: 'ZZZZ' }),
    );
  });

  it.each([
    [{ c: null, t: 1 }, /unusable c \(wanted a number\)/],
    [{ c: 0, t: 1732741200 }, /unusable c \(wanted a price above zero\)/],
    [{ c: 3e7, t: 1732741200 }, /unusable c \(wanted a price up to \$10,000,000\)/],
    [{ c: 10, t: 1.5 }, /unusable t/],
    [{ c: 10, t: 4102444800 }, /implausible trade time 2100-01-01/],
    [[], /unusable body/],
    ['sekrit', /^finnhub: \/quote answered an unusable body .*"\\"\*\*\*\\""$/],
  ])('refuses %j', (body, message) => {
    expect(() => parseFinnhubQuote(http, 'AAPL', body, NOW)).toThrow(message);
  });

  it('reads a profile, and falls back to the monogram and the ticker when there is none', () => {
    expect(parseFinnhubProfile(http, 'AAPL', fixture('finnhub/profile2.json'))).toEqual({
      symbol: 'AAPL',
      name: 'Apple Inc',
      logoUrl: 'https://static2.finnhub.io/file/publicdatany/finnhubimage/stock_logo/AAPL.png',
    });
    expect(parseFinnhubProfile(http, 'SPY', {})).toEqual({
      symbol: 'SPY',
      name: 'SPY',
      logoUrl: '/logos/SPY.svg',
    });
    expect(parseFinnhubProfile(http, 'X', { name: 'X Corp', logo: '' }).logoUrl).toBe('/logos/X.svg');
  });

  it('reads the 52-week range, and says when there is none', () => {
    expect(parseFinnhubMetric(http, 'AAPL', fixture('finnhub/metric.json'))).toEqual({
      symbol: 'AAPL',
      high: 237.81,
      low: 164.08,
    });
    expect(() => parseFinnhubMetric(http, 'SPY', fixture('finnhub/metric-empty.json'))).toThrow(
      expect.objectContaining({ name: 'MissingDataError' }),
    );
    expect(() =>
      parseFinnhubMetric(http, 'AAPL', { metric: { '52WeekHigh': 100, '52WeekLow': 200 } }),
    ).toThrow(/impossible 52-week range for AAPL \(high 100, low 200\)/);
  });
});
