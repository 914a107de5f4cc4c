import { describe, expect, it } from 'vitest';
import { bytes, fakeFetch, fixture, fixtureBytes, json, NOW, parserHttp } from './fixtures.spec-helper.ts';
import {
  createPolygonProvider,
  parsePolygonAggregates,
  parsePolygonSnapshot,
  parsePolygonTickerDetails,
} from './polygon.ts';

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

describe('polygon logos', () => {
  const SVG = fixtureBytes('polygon/logo.svg');
  const PNG = fixtureBytes('finnhub/logo.png');

  /** A Polygon whose ticker details name `logoUrl` and whose branding URL answers `image`. */
  function polygon(logoUrl: string, image: () => Response, baseUrl = 'https://api.massive.com') {
    const details = fixture<{ results: { branding: Record<string, string> } }>('polygon/ticker-details.json');
    details.results.branding = { logo_url: logoUrl };
    const upstream = fakeFetch((url) =>
      url.pathname.startsWith('/v3/reference/tickers/') ? json(details) : image(),
    );
    const provider = createPolygonProvider({
      apiKey: 'sekrit',
      baseUrl,
      timeoutMs: 1000,
      concurrency: 1,
      clock: { now: () => NOW },
      fetch: upstream.fetch,
    });
    return { provider, requests: upstream.requests };
  }

  it('downloads the branding image with the key, server-side, and stores it inline', async () => {
    const logo =
      'https://api.polygon.io/v1/reference/company-branding/YXBwbGUuY29t/images/2024-11-01_logo.svg';
    const { provider, requests } = polygon(logo, () => bytes(SVG, 'image/svg+xml'));
    const { ok } = await provider.getProfiles(['AAPL']);
    expect(ok).toEqual([
      { symbol: 'AAPL', name: 'Apple Inc.', logoUrl: `data:image/svg+xml;base64,${SVG.toString('base64')}` },
    ]);
    expect(requests[1]!.url.href).toBe(logo);
    expect(requests[1]!.headers.get('authorization')).toBe('Bearer sekrit');
  });

  it('inlines a PNG', async () => {
    const { provider } = polygon('https://api.massive.com/v1/reference/company-branding/x/icon.png', () =>
      bytes(PNG, 'image/png'),
    );
    const { ok } = await provider.getProfiles(['AAPL']);
    expect(ok[0]!.logoUrl).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
  });

  it.each([
    ['not an image', () => json({ status: 'ERROR', error: 'not found' })],
    ['too big', () => bytes(Buffer.concat([PNG, Buffer.alloc(65 * 1024)]), 'image/png')],
    ['missing (404)', () => json({ status: 'NOT_FOUND' }, 404)],
  ])('uses the monogram when the image is %s', async (_, image) => {
    const { provider } = polygon('https://api.polygon.io/v1/reference/company-branding/x/logo.svg', image);
    const { ok } = await provider.getProfiles(['AAPL']);
    expect(ok).toEqual([{ symbol: 'AAPL', name: 'Apple Inc.', logoUrl: '/logos/AAPL.svg' }]);
  });

  it('never sends the key to another host: the monogram instead', async () => {
    const { provider, requests } = polygon('https://cdn.example/logo.svg', () => bytes(SVG, 'image/svg+xml'));
    const { ok } = await provider.getProfiles(['AAPL']);
    expect(ok[0]!.logoUrl).toBe('/logos/AAPL.svg');
    expect(requests.map((r) => r.url.hostname)).toEqual(['api.massive.com']);
  });

  it('reports a rate limit on the image as a rate limit', async () => {
    const { provider } = polygon('https://api.polygon.io/v1/reference/company-branding/x/logo.svg', () =>
      json(fixture('polygon/rate-limit.json'), 429),
    );
    const { failed } = await provider.getProfiles(['AAPL']);
    expect(failed).toEqual([
      { symbol: 'AAPL', error: expect.objectContaining({ name: 'ProviderRateLimitedError' }) },
    ]);
  });
});
