import { describe, expect, it } from 'vitest';
import {
  alphaVantageWaitMs,
  parseAlphaVantageIntraday,
  parseAlphaVantageProfile,
  parseAlphaVantageQuote,
  parseAlphaVantageRange,
} from './alphavantage.ts';
import { fixture, NOW, parserHttp } from './fixtures.spec-helper.ts';

const http = parserHttp('alphavantage');

describe('alphavantage answers', () => {
  it('reads intraday minute bars keyed by New York time, across summer time, inside the span only', () => {
    const bar = (price: string) => ({
      '1. open': price,
      '2. high': price,
      '3. low': price,
      '4. close': price,
      '5. volume': '1200',
    });
    const body = {
      'Meta Data': { '6. Time Zone': 'US/Eastern' },
      'Time Series (1min)': {
        '2026-07-06 09:30:00': bar('200.0000'), // EDT: 13:30 UTC
        '2026-12-07 09:30:00': bar('210.0000'), // EST: 14:30 UTC
        '2026-12-07 15:59:00': bar('211.0000'),
        '2026-12-08 09:30:00': bar('212.0000'), // after the span
      },
    };
    const span = { from: new Date('2026-07-01T00:00:00Z'), to: new Date('2026-12-08T00:00:00Z') };
    expect(
      parseAlphaVantageIntraday(http, 'AAPL', body, span).map((b) => [
        b.start.toISOString(),
        b.close,
        b.volume,
      ]),
    ).toEqual([
      ['2026-07-06T13:30:00.000Z', 200, 1200],
      ['2026-12-07T14:30:00.000Z', 210, 1200],
      ['2026-12-07T20:59:00.000Z', 211, 1200],
    ]);
  });

  it('refuses an intraday answer whose keys are not New York wall-clock times', () => {
    expect(() =>
      parseAlphaVantageIntraday(
        http,
        'AAPL',
        { 'Time Series (1min)': { '2026-12-07T14:30:00Z': {} } },
        { from: new Date(0), to: new Date('2030-01-01') },
      ),
    ).toThrow(expect.objectContaining({ name: 'InvalidProviderResponseError' }));
  });

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
