import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.ts';
import { createSimulatedProvider } from './simulated.ts';

describe('simulated provider', () => {
  const clock = createManualClock(new Date('2026-11-30T15:00:00.400Z'));
  const provider = createSimulatedProvider({ seed: 'spec', clock });

  it('quotes every symbol in one batch, stamped with the instant it observes, ms included', async () => {
    const { ok, failed } = await provider.getQuotes(['AAPL', 'GE']);
    expect(failed).toEqual([]);
    expect(ok.map((q) => q.symbol)).toEqual(['AAPL', 'GE']);
    for (const quote of ok) {
      expect(quote.time.toISOString()).toBe('2026-11-30T15:00:00.400Z');
      expect(quote.price).toBeGreaterThan(0);
    }
  });

  it('is deterministic: a second provider with the same seed quotes the same', async () => {
    const other = createSimulatedProvider({ seed: 'spec', clock });
    expect(await other.getQuotes(['NFLX'])).toEqual(await provider.getQuotes(['NFLX']));
  });

  it('serves monogram logos from this app and real company names', async () => {
    const { ok } = await provider.getProfiles(['AAPL']);
    expect(ok).toEqual([{ symbol: 'AAPL', name: 'Apple Inc.', logoUrl: '/logos/AAPL.svg' }]);
  });

  it('gives 52-week ranges that contain the current quote', async () => {
    const [quote] = (await provider.getQuotes(['NVDA'])).ok;
    const [range] = (await provider.getFiftyTwoWeekRanges(['NVDA'])).ok;
    expect(range!.low).toBeLessThanOrEqual(quote!.price);
    expect(range!.high).toBeGreaterThanOrEqual(quote!.price);
  });

  it("answers as of a given instant (a job's slot), whatever the clock says", async () => {
    const asOf = new Date('2026-11-30T14:59:30.250Z');
    const { ok } = await provider.getQuotes(['AAPL'], { asOf });
    clock.advance(60_000);
    expect(await provider.getQuotes(['AAPL'], { asOf })).toEqual({ ok, failed: [] });
    expect(ok[0]!.time.toISOString()).toBe('2026-11-30T14:59:30.250Z');
  });

  it('honours an aborted signal', async () => {
    await expect(provider.getQuotes(['AAPL'], { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
