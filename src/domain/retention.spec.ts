import { describe, expect, it } from 'vitest';
import { planColumns } from './m4.ts';
import { retentionHorizon } from './retention.ts';

describe('retentionHorizon', () => {
  it.each([
    ['2026-12-05T11:30:00Z', 30, '2026-11-05T00:00:00.000Z'],
    ['2026-12-05T00:00:00Z', 1, '2026-12-04T00:00:00.000Z'],
    ['2026-12-05T23:59:59.999Z', 1, '2026-12-04T00:00:00.000Z'],
    ['2027-03-01T08:00:00Z', 3, '2027-02-26T00:00:00.000Z'],
  ])('at %s keeping %i days, raw ticks begin at %s (a UTC midnight)', (now, days, horizon) => {
    expect(retentionHorizon(new Date(now), days)?.toISOString()).toBe(horizon);
  });

  it('has no horizon when ticks are kept for ever', () => {
    expect(retentionHorizon(new Date(), 'forever')).toBeUndefined();
  });
});

describe('planColumns across the raw horizon', () => {
  const from = Date.UTC(2026, 10, 1, 12);
  const to = from + 600_000;

  it('reads the rollup, a minute per column, for a narrow window starting before raw ticks begin', () => {
    expect(planColumns(from, to, 400, from + 1)).toEqual({
      source: 'minute',
      originMs: Date.UTC(2000, 0, 1),
      columnMs: 60_000,
      startMs: from,
    });
  });

  it('reads raw ticks when the window starts at or after the horizon, as without one', () => {
    expect(planColumns(from, to, 400, from)).toEqual(planColumns(from, to, 400));
    expect(planColumns(from, to, 400, from).source).toBe('raw');
  });
});
