import { describe, expect, it } from 'vitest';
import { isMarketOpen, nextSession, overlapsSession, previousSession } from './market-calendar.ts';

describe('isMarketOpen', () => {
  it.each([
    ['2026-12-04T14:30:00Z', true, 'Friday 9:30 EST, the open'],
    ['2026-12-04T14:29:59Z', false, 'a second before the open'],
    ['2026-12-04T20:59:59Z', true, 'a second before the close'],
    ['2026-12-04T21:00:00Z', false, 'the close'],
    ['2026-12-05T15:00:00Z', false, 'Saturday'],
    ['2026-11-26T15:00:00Z', false, 'Thanksgiving'],
    ['2026-11-27T17:59:00Z', true, 'the day after Thanksgiving, before its 13:00 close'],
    ['2026-11-27T18:00:00Z', false, 'the day after Thanksgiving, at its 13:00 close'],
    ['2026-07-03T15:00:00Z', false, 'Independence Day observed (a Friday)'],
    ['2026-07-06T13:30:00Z', true, 'summer time: 9:30 EDT is 13:30 UTC'],
    ['2026-12-25T15:00:00Z', false, 'Christmas'],
    ['2027-03-26T15:00:00Z', false, 'Good Friday 2027'],
  ])('%s → %s (%s)', (at, open) => {
    expect(isMarketOpen(new Date(at))).toBe(open);
  });
});

describe('nextSession and previousSession', () => {
  it('after the Friday close: opens Monday 9:30, last closed Friday 16:00', () => {
    const at = new Date('2026-12-04T22:00:00Z');
    expect(new Date(nextSession(at)!.openMs).toISOString()).toBe('2026-12-07T14:30:00.000Z');
    expect(new Date(previousSession(at)!.closeMs).toISOString()).toBe('2026-12-04T21:00:00.000Z');
  });

  it('over Christmas: from the 13:00 close on the 24th to the open on the 28th', () => {
    const at = new Date('2026-12-25T12:00:00Z');
    expect(previousSession(at)).toMatchObject({ date: '2026-12-24', earlyClose: true });
    expect(new Date(previousSession(at)!.closeMs).toISOString()).toBe('2026-12-24T18:00:00.000Z');
    expect(nextSession(at)!.date).toBe('2026-12-28');
  });

  it('during a session the previous close is yesterday’s', () => {
    expect(previousSession(new Date('2026-12-08T15:00:00Z'))!.date).toBe('2026-12-07');
  });
});

describe('overlapsSession', () => {
  it.each([
    ['2026-12-04T14:00:00Z', '2026-12-04T15:00:00Z', true],
    ['2026-12-04T13:00:00Z', '2026-12-04T14:00:00Z', false],
    ['2026-12-05T00:00:00Z', '2026-12-07T00:00:00Z', false],
    ['2026-12-04T20:00:00Z', '2026-12-07T15:00:00Z', true],
  ])('[%s, %s) → %s', (from, to, expected) => {
    expect(overlapsSession(Date.parse(from), Date.parse(to))).toBe(expected);
  });
});
