import { describe, expect, it } from 'vitest';
import { closeReference } from './previous-close.ts';

const close = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('closeReference', () => {
  it.each([
    // at, trades around the clock, basis, measured from (close), the session whose change it is
    [
      '2026-12-08T15:00:00Z',
      false,
      'since-close',
      '2026-12-07T21:00:00.000Z',
      undefined,
      'Tuesday in session: since Monday',
    ],
    [
      '2026-12-07T15:00:00Z',
      false,
      'since-close',
      '2026-12-04T21:00:00.000Z',
      undefined,
      'Monday in session: since Friday',
    ],
    [
      '2026-12-04T22:00:00Z',
      false,
      'session',
      '2026-12-03T21:00:00.000Z',
      '2026-12-04T21:00:00.000Z',
      'Friday evening: Friday vs Thursday',
    ],
    [
      '2026-12-05T15:00:00Z',
      false,
      'session',
      '2026-12-03T21:00:00.000Z',
      '2026-12-04T21:00:00.000Z',
      'Saturday: still Friday vs Thursday',
    ],
    [
      '2026-12-07T13:00:00Z',
      false,
      'session',
      '2026-12-03T21:00:00.000Z',
      '2026-12-04T21:00:00.000Z',
      'Monday before the open: Friday vs Thursday',
    ],
    [
      '2026-11-27T17:00:00Z',
      false,
      'since-close',
      '2026-11-25T21:00:00.000Z',
      undefined,
      'after Thanksgiving, in the short session: since Wednesday',
    ],
    [
      '2026-11-27T19:00:00Z',
      false,
      'session',
      '2026-11-25T21:00:00.000Z',
      '2026-11-27T18:00:00.000Z',
      'after its 13:00 close: that session vs Wednesday',
    ],
    [
      '2026-12-05T15:00:00Z',
      true,
      'since-close',
      '2026-12-04T21:00:00.000Z',
      undefined,
      'around the clock, Saturday: since Friday',
    ],
    [
      '2026-12-08T15:00:00Z',
      true,
      'since-close',
      '2026-12-07T21:00:00.000Z',
      undefined,
      'around the clock, in session: the same as the exchanges',
    ],
  ])('%s (around the clock: %s) → %s from %s, of %s: %s', (at, aroundTheClock, basis, from, of, _why) => {
    const reference = closeReference(new Date(at), aroundTheClock);
    expect(reference?.basis).toBe(basis);
    expect(close(reference?.base.closeMs)).toBe(from);
    expect(close(reference?.session?.closeMs)).toBe(of);
  });
});
