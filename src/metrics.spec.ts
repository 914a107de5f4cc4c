import { describe, expect, it } from 'vitest';
import { createMetrics, upstreamErrorKind } from './metrics.ts';
import {
  InvalidProviderResponseError,
  MissingDataError,
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitedError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  UnknownSymbolError,
} from './providers/provider.ts';

describe('upstreamErrorKind', () => {
  it.each([
    [new ProviderRateLimitedError('finnhub', 1000, 'HTTP 429'), 'rate_limited'],
    [new ProviderRateLimitedError('finnhub', 1000, 'used up', { source: 'budget' }), 'budget'],
    [new ProviderTimeoutError('finnhub', 'slow'), 'timeout'],
    [new ProviderUnavailableError('finnhub', '503'), 'unavailable'],
    [new ProviderAuthError('finnhub', '401'), 'auth'],
    [new InvalidProviderResponseError('finnhub', 'html'), 'invalid'],
    [new UnknownSymbolError('finnhub', 'ZZZZ'), 'unknown_symbol'],
    [new MissingDataError('finnhub', 'AAPL', 'no range'), 'missing_data'],
    [new ProviderError('finnhub', 'something else'), 'other'],
    ['not even an error', 'other'],
  ])('%s is %s', (error, kind) => {
    expect(upstreamErrorKind(error)).toBe(kind);
  });
});

describe('createMetrics', () => {
  it('gives each call a registry of its own, with the process metrics in it', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.ticksStored.inc(3);
    const [a, b] = await Promise.all([first.registry.metrics(), second.registry.metrics()]);
    expect(a).toMatch(/^stockstreamer_ticks_stored_total 3$/m);
    expect(b).toMatch(/^stockstreamer_ticks_stored_total 0$/m);
    expect(a).toMatch(/^process_cpu_user_seconds_total /m);
    expect(a).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });
});
