import { describe, expect, it } from 'vitest';
import {
  createFinnhubProvider,
  parseFinnhubMetric,
  parseFinnhubProfile,
  parseFinnhubQuote,
} from './finnhub.ts';
import { bytes, fakeFetch, fixture, fixtureBytes, json, NOW, parserHttp } from './fixtures.spec-helper.ts';

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

  it('reads a profile’s name and logo URL, and the ticker as the name when there is none', () => {
    expect(parseFinnhubProfile(http, 'AAPL', fixture('finnhub/profile2.json'))).toEqual({
      name: 'Apple Inc',
      logoUrl: 'https://static2.finnhub.io/file/publicdatany/finnhubimage/stock_logo/AAPL.png',
    });
    expect(parseFinnhubProfile(http, 'SPY', {})).toEqual({ name: 'SPY', logoUrl: undefined });
    expect(parseFinnhubProfile(http, 'X', { name: 'X Corp', logo: '' }).logoUrl).toBeUndefined();
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

describe('finnhub logos', () => {
  const PNG = fixtureBytes('finnhub/logo.png');
  const LOGO = 'https://static2.finnhub.io/file/publicdatany/finnhubimage/stock_logo/AAPL.png';

  /** A Finnhub whose profile names `logo` and whose static host answers `image`. */
  function finnhub(logo: string, image: () => Response) {
    const upstream = fakeFetch((url) =>
      url.pathname === '/api/v1/stock/profile2'
        ? json({ ...fixture<object>('finnhub/profile2.json'), logo })
        : image(),
    );
    const provider = createFinnhubProvider({
      apiKey: 'sekrit',
      baseUrl: 'https://finnhub.io/api/v1',
      timeoutMs: 1000,
      concurrency: 1,
      clock: { now: () => NOW },
      fetch: upstream.fetch,
    });
    return { provider, requests: upstream.requests };
  }

  it('downloads the logo from Finnhub’s static host and stores it inline', async () => {
    const { provider, requests } = finnhub(LOGO, () => bytes(PNG, 'image/png'));
    const { ok, failed } = await provider.getProfiles(['AAPL']);
    expect(failed).toEqual([]);
    expect(ok).toEqual([
      { symbol: 'AAPL', name: 'Apple Inc', logoUrl: `data:image/png;base64,${PNG.toString('base64')}` },
    ]);
    expect(requests.map((r) => r.url.href)).toEqual([
      'https://finnhub.io/api/v1/stock/profile2?symbol=AAPL',
      LOGO,
    ]);
  });

  it.each([
    ['not an image', LOGO, () => bytes('<html>Not here</html>', 'text/html')],
    ['too big', LOGO, () => bytes(Buffer.concat([PNG, Buffer.alloc(65 * 1024)]), 'image/png')],
    ['missing (404)', LOGO, () => bytes('Not Found', 'text/plain', 404)],
    ['on another host', 'https://logo.example/AAPL.png', () => bytes(PNG, 'image/png')],
  ])('keeps the name and uses the monogram when the image is %s', async (_, logo, image) => {
    const { provider, requests } = finnhub(logo, image);
    const { ok } = await provider.getProfiles(['AAPL']);
    expect(ok).toEqual([{ symbol: 'AAPL', name: 'Apple Inc', logoUrl: '/logos/AAPL.svg' }]);
    expect(requests.some((r) => r.url.hostname === 'logo.example')).toBe(false);
  });

  it('reports a rate limit on the image as a rate limit, and stops sending', async () => {
    const { provider, requests } = finnhub(LOGO, () =>
      json({ error: 'API limit reached.' }, 429, { 'retry-after': '3' }),
    );
    const { ok, failed } = await provider.getProfiles(['AAPL', 'MSFT']);
    expect(ok).toEqual([]);
    const limited = expect.objectContaining({ name: 'ProviderRateLimitedError', retryAfterMs: 3000 });
    expect(failed).toEqual([
      { symbol: 'AAPL', error: limited },
      { symbol: 'MSFT', error: limited },
    ]);
    expect(requests).toHaveLength(2);
  });
});
