import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RANGE,
  historyFrom,
  isRangeKey,
  liveWindow,
  MAX_WINDOW_MS,
  RANGES,
  rangeChoice,
} from './ranges.ts';

const NOW = Date.UTC(2026, 10, 30, 14, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('RANGES', () => {
  it('offers the picker’s five choices, shortest first, defaulting to the classic’s 7 days', () => {
    expect(RANGES.map((r) => r.key)).toEqual(['1h', '1d', '7d', '30d', 'all']);
    expect(DEFAULT_RANGE).toBe('7d');
    expect(rangeChoice('7d').ms).toBe(7 * DAY);
  });

  it('asks no more than the server’s 366-day maximum for "all"', () => {
    expect(rangeChoice('all').ms).toBe(MAX_WINDOW_MS);
    expect(MAX_WINDOW_MS).toBe(366 * DAY);
  });

  it.each([
    ['1h', true],
    ['all', true],
    ['2d', false],
    [undefined, false],
  ])('isRangeKey(%s) is %s', (value, expected) => {
    expect(isRangeKey(value)).toBe(expected);
  });
});

describe('liveWindow', () => {
  it.each([
    { name: '1 hour ending now', key: '1h', first: NOW - 30 * DAY, expected: { min: NOW - HOUR, max: NOW } },
    { name: '1 day', key: '1d', first: NOW - 30 * DAY, expected: { min: NOW - DAY, max: NOW } },
    { name: '7 days', key: '7d', first: NOW - 30 * DAY, expected: { min: NOW - 7 * DAY, max: NOW } },
    { name: '30 days', key: '30d', first: NOW - 60 * DAY, expected: { min: NOW - 30 * DAY, max: NOW } },
    {
      name: 'all: from the first point there is',
      key: 'all',
      first: NOW - 45 * DAY,
      expected: { min: NOW - 45 * DAY, max: NOW },
    },
    {
      name: 'a young install still shows the whole week (the axis tells the truth about the range)',
      key: '7d',
      first: NOW - 2 * HOUR,
      expected: { min: NOW - 7 * DAY, max: NOW },
    },
    {
      name: 'all, on a young install: its two hours',
      key: 'all',
      first: NOW - 2 * HOUR,
      expected: { min: NOW - 2 * HOUR, max: NOW },
    },
    {
      name: 'no data yet: the whole range',
      key: '1d',
      first: undefined,
      expected: { min: NOW - DAY, max: NOW },
    },
    {
      name: 'never narrower than a minute',
      key: 'all',
      first: NOW - 5000,
      expected: { min: NOW - 60_000, max: NOW },
    },
  ] as const)('$name', ({ key, first, expected }) => {
    expect(liveWindow(key, NOW, first)).toEqual(expected);
  });

  it('ends at the newest point when the server’s clock runs ahead of the viewer’s', () => {
    expect(liveWindow('1h', NOW, NOW - DAY, NOW + 3000)).toEqual({ min: NOW + 3000 - HOUR, max: NOW + 3000 });
  });
});

describe('historyFrom', () => {
  it('asks for the range’s full length back from now', () => {
    expect(historyFrom('1d', NOW)).toBe(NOW - DAY);
    expect(historyFrom('30d', NOW)).toBe(NOW - 30 * DAY);
  });

  it('asks "all" for a window the server accepts when the request arrives, an hour short of its maximum', () => {
    expect(historyFrom('all', NOW)).toBe(NOW - 366 * DAY + HOUR);
  });
});
