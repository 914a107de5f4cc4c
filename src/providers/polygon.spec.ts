import { describe, expect, it } from 'vitest';
import { fixture, NOW, parserHttp } from './fixtures.spec-helper.ts';
import { parsePolygonAggregates, parsePolygonSnapshot, parsePolygonTickerDetails } from './polygon.ts';

const http = parserHttp('polygon');

describe('polygon answers', () => {
  it('reads the batch snapshot; a ticker it left out is unknown', () => {
    const result = parsePolygonSnapshot(http, ['AAPL', 'ZZZZ'], fixture('polygon/snapshot.json'), NOW);
    expect(result.ok).toEqual([{ symbol: 'AAPL', price: 237.33, time: new Date(1732741200000) }]);
    expect(result.failed).toEqual([
      { symbol: 'ZZZZ', error: expect.objectContaining({ name: 'UnknownSymbolError' }) },
    ]);
  });

  it('says there is no trade yet when the snapshot was cleared', () => {
    const body = fixture<{ tickers: { lastTrade?: unknown }[] }>('polygon/snapshot.json');
    delete body.tickers[0]!.lastTrade;
    const result = parsePolygonSnapshot(http, ['AAPL'], body, NOW);
    expect(result.failed[0]!.error).toMatchObject({ name: 'MissingDataError' });
  });

  it('reads the name and logo URL of a ticker, and a 404 as unknown', () => {
    expect(parsePolygonTickerDetails(http, 'AAPL', 200, fixture('polygon/ticker-details.json'))).toEqual({
      name: 'Apple Inc.',
      logoUrl: 'https://api.polygon.io/v1/reference/company-branding/YXBwbGUuY29t/images/2024-11-01_logo.svg',
    });
    expect(() => parsePolygonTickerDetails(http, 'ZZZZ', 404, fixture('polygon/not-found.json'))).toThrow(
      'polygon: unknown symbol ZZZZ (/v3/reference/tickers answered 404 NOT_FOUND Ticker not found.)',
    );
  });

  it('derives the 52-week range from a year of daily bars', () => {
    expect(parsePolygonAggregates(http, 'AAPL', 200, fixture('polygon/aggregates.json'))).toEqual({
      symbol: 'AAPL',
      high: 237.81,
      low: 164.08,
    });
    expect(() =>
      parsePolygonAggregates(http, 'NEW', 200, { ticker: 'NEW', resultsCount: 0, status: 'OK' }),
    ).toThrow(expect.objectContaining({ name: 'MissingDataError' }));
  });
});
