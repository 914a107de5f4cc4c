import { describe, expect, it } from 'vitest';
import {
  alphaVantageWaitMs,
  parseAlphaVantageProfile,
  parseAlphaVantageQuote,
  parseAlphaVantageRange,
} from './alphavantage.ts';
import { fixture, NOW, parserHttp } from './fixtures.spec-helper.ts';

const http = parserHttp('alphavantage');

describe('alphavantage answers', () => {
  it('reads a quote, stamped with the fetch time to the second (it has no trade time)', () => {
    const now = new Date('2026-11-30T15:00:07.654Z');
    expect(parseAlphaVantageQuote(http, 'AAPL', fixture('alphavantage/global-quote.json'), now)).toEqual({
      symbol: 'AAPL',
      price: 237.33,
      time: new Date('2026-11-30T15:00:07.000Z'),
    });
  });

  it('reads an empty "Global Quote" as an unknown symbol', () => {
    expect(() =>
      parseAlphaVantageQuote(http, 'ZZZZ', fixture('alphavantage/global-quote-unknown.json'), NOW),
    ).toThrow(expect.objectContaining({ name: 'UnknownSymbolError' }));
  });

  it.each(['NaN', '-1.00', 'None', ''])('refuses the price %j', (price) => {
    expect(() =>
      parseAlphaVantageQuote(
        http,
        'AAPL',
        { 'Global Quote': { '01. symbol': 'AAPL', '05. price': price } },
        NOW,
      ),
    ).toThrow(/^alphavantage: \/query\?function=GLOBAL_QUOTE answered an unusable Global Quote\.05\. price/);
  });

  it('reads OVERVIEW for the name and range; funds answer {}', () => {
    expect(parseAlphaVantageProfile(http, 'AAPL', fixture('alphavantage/overview.json'))).toEqual({
      symbol: 'AAPL',
      name: 'Apple Inc',
      logoUrl: '/logos/AAPL.svg',
    });
    expect(parseAlphaVantageRange(http, 'AAPL', fixture('alphavantage/overview.json'))).toEqual({
      symbol: 'AAPL',
      high: 237.81,
      low: 164.08,
    });
    expect(() => parseAlphaVantageRange(http, 'SPY', {})).toThrow(
      expect.objectContaining({ name: 'MissingDataError' }),
    );
  });

  it('waits a second for the burst limit, else until the next minute', () => {
    const now = Date.parse('2026-11-30T15:00:45.000Z');
    expect(alphaVantageWaitMs('no more than 1 request per second', now)).toBe(1000);
    expect(alphaVantageWaitMs(fixture<{ Note: string }>('alphavantage/note.json').Note, now)).toBe(16_000);
    expect(
      alphaVantageWaitMs(fixture<{ Information: string }>('alphavantage/information.json').Information, now),
    ).toBe(16_000);
  });
});
