import { describe, expect, it } from 'vitest';
import { bytes, fakeFetch, fixture, fixtureBytes, json, NOW } from './fixtures.spec-helper.ts';
import { createTwelveDataProvider, twelveDataWaitMs } from './twelvedata.ts';

describe('twelvedata rate-limit windows', () => {
  const now = Date.parse('2026-11-30T15:00:45.250Z');
  it('waits for the next minute when the minute’s credits are gone', () => {
    expect(twelveDataWaitMs(fixture<{ message: string }>('twelvedata/error-429.json').message, now)).toBe(
      15_750,
    );
  });
  it('waits for the next UTC day when the day’s credits are gone', () => {
    expect(twelveDataWaitMs('You have run out of API credits for the day.', now)).toBe(
      Date.parse('2026-12-01T00:00:00.000Z') - now + 1000,
    );
  });
});

describe('twelvedata logos', () => {
  const PNG = fixtureBytes('twelvedata/logo.png');
  const LOGO = 'https://api.twelvedata.com/logo/apple.com';

  /** A Twelve Data whose `/logo` answers `url` and whose image URL answers `image`. */
  function twelveData(url: string, image: () => Response) {
    const upstream = fakeFetch((requested) => {
      if (requested.pathname === '/quote') return json(fixture('twelvedata/quote.json'));
      if (requested.pathname === '/logo') return json({ ...fixture<object>('twelvedata/logo.json'), url });
      return image();
    });
    const provider = createTwelveDataProvider({
      apiKey: 'sekrit',
      baseUrl: 'https://api.twelvedata.com',
      timeoutMs: 1000,
      concurrency: 1,
      clock: { now: () => NOW },
      fetch: upstream.fetch,
    });
    return { provider, requests: upstream.requests };
  }

  it('downloads the image `/logo` points at and stores it inline', async () => {
    const { provider, requests } = twelveData(LOGO, () => bytes(PNG, 'image/png'));
    const { ok, failed } = await provider.getProfiles(['AAPL']);
    expect(failed).toEqual([]);
    expect(ok).toEqual([
      { symbol: 'AAPL', name: 'Apple Inc.', logoUrl: `data:image/png;base64,${PNG.toString('base64')}` },
    ]);
    expect(requests.map((r) => r.url.pathname)).toEqual(['/quote', '/logo', '/logo/apple.com']);
  });

  it.each([
    ['not an image', LOGO, () => json({ status: 'error', code: 404, message: 'not found' })],
    ['too big', LOGO, () => bytes(Buffer.concat([PNG, Buffer.alloc(65 * 1024)]), 'image/png')],
    ['missing (404)', LOGO, () => bytes('Not Found', 'text/plain', 404)],
    ['on another host', 'https://logo.clearbit.com/apple.com', () => bytes(PNG, 'image/png')],
    ['over plain http', 'http://api.twelvedata.com/logo/apple.com', () => bytes(PNG, 'image/png')],
  ])('keeps the name and uses the monogram when the image is %s', async (_, url, image) => {
    const { provider, requests } = twelveData(url, image);
    const { ok } = await provider.getProfiles(['AAPL']);
    expect(ok).toEqual([{ symbol: 'AAPL', name: 'Apple Inc.', logoUrl: '/logos/AAPL.svg' }]);
    expect(
      requests.every((r) => r.url.protocol === 'https:' && r.url.hostname === 'api.twelvedata.com'),
    ).toBe(true);
  });

  it('reports a rate limit on the image as a rate limit', async () => {
    const { provider } = twelveData(LOGO, () => bytes('Too Many Requests', 'text/plain', 429));
    const { ok, failed } = await provider.getProfiles(['AAPL']);
    expect(ok).toEqual([]);
    expect(failed).toEqual([
      { symbol: 'AAPL', error: expect.objectContaining({ name: 'ProviderRateLimitedError' }) },
    ]);
  });
});
