import { describe, expect, it } from 'vitest';
import { assessFreshness, type FreshnessRecord, nextRecord, staleAfterMs } from './freshness.ts';

const T0 = Date.parse('2026-11-30T15:00:00.000Z');
const STALE = 15_000;

function record(overrides: Partial<FreshnessRecord>): FreshnessRecord {
  return {
    lastOutcome: 'ok',
    reason: undefined,
    lastAttemptAt: T0,
    lastGoodAt: T0,
    outcomeSince: T0,
    ...overrides,
  };
}

describe('assessFreshness', () => {
  it.each([
    ['no record: pending', undefined, 0, 'pending', 'no price fetch has run yet'],
    ['a good price within the window: live', record({}), STALE, 'live', undefined],
    [
      'one failed fetch after a recent good price: still live',
      record({ lastOutcome: 'provider_error', reason: 'finnhub: HTTP 500' }),
      5000,
      'live',
      undefined,
    ],
    [
      'no good price past the window, provider refusing: provider error with its reason and the age',
      record({ lastOutcome: 'provider_error', reason: 'finnhub: /quote refused the request (HTTP 401)' }),
      180_000,
      'provider_error',
      'no good price for 3 min: finnhub: /quote refused the request (HTTP 401)',
    ],
    [
      'never a good price, provider refusing',
      record({ lastOutcome: 'provider_error', reason: 'HTTP 401', lastGoodAt: undefined }),
      0,
      'provider_error',
      'no good price yet: HTTP 401',
    ],
    [
      'no good price past the window though the last fetch was fine: stale',
      record({}),
      STALE + 1000,
      'stale',
      'no good price for 16 s; the last fetch succeeded but nothing newer was stored',
    ],
  ] as const)('%s', (_, rec, afterMs, state, reason) => {
    const f = assessFreshness(rec, T0 + afterMs, STALE);
    expect(f.state).toBe(state);
    expect(f.reason).toBe(reason);
    if (rec?.lastGoodAt !== undefined) expect(f.ageSeconds).toBe(afterMs / 1000);
  });
});

describe('nextRecord', () => {
  it('keeps when a fault began across failed fetches, and the last good time across faults', () => {
    const fault = nextRecord(record({}), { outcome: 'provider_error', reason: 'HTTP 401', at: T0 + 5000 });
    const again = nextRecord(fault, { outcome: 'provider_error', reason: 'HTTP 401', at: T0 + 10_000 });
    expect(again).toEqual({
      lastOutcome: 'provider_error',
      reason: 'HTTP 401',
      lastAttemptAt: T0 + 10_000,
      lastGoodAt: T0,
      outcomeSince: T0 + 5000,
    });
    const back = nextRecord(again, { outcome: 'ok', reason: undefined, at: T0 + 15_000 });
    expect(back).toMatchObject({ lastOutcome: 'ok', lastGoodAt: T0 + 15_000, outcomeSince: T0 + 15_000 });
  });

  it('a late job neither moves the good time back nor overwrites a newer outcome', () => {
    const now = record({ lastOutcome: 'provider_error', lastAttemptAt: T0 + 10_000, lastGoodAt: T0 });
    const late = nextRecord(now, { outcome: 'ok', reason: undefined, at: T0 + 5000 });
    expect(late).toMatchObject({
      lastOutcome: 'provider_error',
      lastAttemptAt: T0 + 10_000,
      lastGoodAt: T0 + 5000,
    });
  });
});

describe('staleAfterMs', () => {
  it('is three intervals, at least 15 s', () => {
    expect(staleAfterMs(5000)).toBe(15_000);
    expect(staleAfterMs(1000)).toBe(15_000);
    expect(staleAfterMs(60_000)).toBe(180_000);
  });
});
