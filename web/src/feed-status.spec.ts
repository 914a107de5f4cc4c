import { describe, expect, it } from 'vitest';
import { feedProblem, pillState, tickerProblem } from './feed-status.ts';
import type { FeedFreshness } from './types.ts';

const feed = (state: FeedFreshness['state'], reason: string | null = null): FeedFreshness => ({
  state,
  reason,
  ageSeconds: 200,
  lastGoodAt: null,
});

describe('the status pill', () => {
  it.each([
    ['connected, prices arriving', 'live', feed('LIVE'), 'live', ''],
    ['connected, nothing polled yet', 'live', undefined, 'live', ''],
    ['connected, no fetch yet', 'live', feed('PENDING'), 'live', ''],
    [
      'connected, provider refusing',
      'live',
      feed('PROVIDER_ERROR', 'no good price for 3 min: finnhub: HTTP 401'),
      'provider error',
      'Provider error: no good price for 3 min: finnhub: HTTP 401',
    ],
    [
      'connected, stale',
      'live',
      feed('STALE', 'no good price for 20 s'),
      'stale',
      'Prices are stale: no good price for 20 s',
    ],
    ['disconnected: the connection speaks', 'reconnecting', feed('PROVIDER_ERROR', 'x'), 'reconnecting', ''],
  ] as const)('%s', (_, connection, f, state, problem) => {
    expect(pillState(connection, f)).toBe(state);
    expect(feedProblem(pillState(connection, f), f)).toBe(problem);
  });
});

describe('a card’s line', () => {
  it.each([
    ['LIVE', 'x', undefined],
    ['PENDING', 'no price fetch has run yet', undefined],
    ['PROVIDER_ERROR', 'no good price yet: finnhub: HTTP 401', 'no good price yet: finnhub: HTTP 401'],
    ['STALE', null, 'no recent price'],
  ] as const)('%s', (state, reason, line) => {
    expect(tickerProblem({ state, reason })).toBe(line);
  });
});
