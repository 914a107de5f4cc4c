import { describe, expect, it } from 'vitest';
import {
  InvalidProviderResponseError,
  MissingDataError,
  ProviderRateLimitedError,
  UnknownSymbolError,
} from '../src/providers/provider.ts';
import { DEFAULT_RATE_LIMIT_WAIT_MS, rateLimitWait, sortFailures } from './provider-faults.ts';

describe('sortFailures', () => {
  it('sorts each failed symbol by what happens to it next', () => {
    const garbage = new InvalidProviderResponseError('p', '/quote answered an unusable c');
    const missing = new MissingDataError('p', 'SPY', 'no 52-week range');
    const sorted = sortFailures([
      { symbol: 'ZZZZ', error: new UnknownSymbolError('p', 'ZZZZ', 'all zeros') },
      { symbol: 'SPY', error: missing },
      { symbol: 'MSFT', error: new ProviderRateLimitedError('p', 1500) },
      { symbol: 'NVDA', error: new ProviderRateLimitedError('p', 4000) },
      { symbol: 'AAPL', error: garbage },
    ]);
    expect(sorted).toEqual({
      unknown: [{ symbol: 'ZZZZ', reason: 'p: unknown symbol ZZZZ (all zeros)' }],
      missing: [{ symbol: 'SPY', error: missing }],
      limited: { symbols: ['MSFT', 'NVDA'], waitMs: 4000 },
      other: [{ symbol: 'AAPL', error: garbage }],
    });
  });
});

describe('rateLimitWait', () => {
  it.each([
    [[2000], 2000],
    [[undefined], DEFAULT_RATE_LIMIT_WAIT_MS],
    [[undefined, 500], 500],
    [[3], 100],
    [[10 * 86_400_000], 86_400_000],
  ])('waits %j → %d ms', (stated, wanted) => {
    expect(rateLimitWait(stated.map((ms) => new ProviderRateLimitedError('p', ms)))).toBe(wanted);
  });
});
