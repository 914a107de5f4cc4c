import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { createAlphaVantageProvider, OVERVIEW_REUSE_MS } from '../../src/providers/alphavantage.ts';
import { FAKE_KEYS, type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';

/**
 * The profile and 52-week jobs both read Alpha Vantage's OVERVIEW on the same default interval; one
 * answer serves both for a while, which halves a cycle's share of a tight daily allowance.
 */
describe('Alpha Vantage OVERVIEW, read once for both slow jobs', () => {
  let fake: FakeUpstream;
  const clock = createManualClock(new Date('2026-11-30T15:00:00Z'));
  const provider = () =>
    createAlphaVantageProvider({
      apiKey: FAKE_KEYS.alphavantage,
      baseUrl: `${fake.url}/alphavantage`,
      timeoutMs: 2000,
      concurrency: 2,
      clock,
    });
  const overviews = () => fake.requestsTo('alphavantage').filter((r) => r.query.function === 'OVERVIEW');

  beforeAll(async () => {
    fake = await startFakeUpstream();
  });
  beforeEach(() => {
    fake.reset();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('serves profiles and 52-week ranges from one request per symbol, even when the jobs run at once', async () => {
    const av = provider();
    const [profiles, ranges] = await Promise.all([
      av.getProfiles(['AAPL', 'MSFT']),
      av.getFiftyTwoWeekRanges(['AAPL', 'MSFT']),
    ]);
    expect(profiles.ok.map((p) => p.name)).toEqual(['Apple Inc.', 'Microsoft Corporation']);
    expect(ranges.ok.map((r) => [r.high, r.low])).toEqual([
      [237.81, 164.08],
      [468.35, 362.9],
    ]);
    await av.getFiftyTwoWeekRanges(['AAPL']);
    expect(
      overviews()
        .map((r) => r.query.symbol)
        .sort(),
    ).toEqual(['AAPL', 'MSFT']);

    // The next cycle asks again.
    clock.advance(OVERVIEW_REUSE_MS);
    await av.getProfiles(['AAPL']);
    expect(overviews()).toHaveLength(3);
  });

  it('does not hand a failed answer to the other job: it asks again', async () => {
    const av = provider();
    fake.inject({ kind: 'status', status: 500, provider: 'alphavantage', symbol: 'AAPL' });
    const profiles = await av.getProfiles(['AAPL']);
    expect(profiles.failed.map((f) => f.symbol)).toEqual(['AAPL']);
    const ranges = await av.getFiftyTwoWeekRanges(['AAPL']);
    expect(ranges.ok.map((r) => r.symbol)).toEqual(['AAPL']);
    expect(overviews()).toHaveLength(2);
  });
});
