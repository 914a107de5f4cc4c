import { describe, expect, it } from 'vitest';
import { candleInterval } from './candles.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('candleInterval', () => {
  it.each([
    ['an hour in minutes on 1200 px', 'M1', HOUR, 1200, 'M1'],
    ['the finest when none is asked', undefined, 6 * HOUR, 1200, 'M1'],
    ['a day of minutes is 1,440 candles: coarser', 'M1', DAY, 1200, 'M5'],
    ['7 days on 300 candles', 'M5', 7 * DAY, 300, 'H1'],
    ['what was asked, when it is already coarse', 'D1', HOUR, 1200, 'D1'],
    ['ten years: daily, however many', 'M1', 3650 * DAY, 200, 'D1'],
  ] as const)('%s', (_, asked, span, max, expected) => {
    expect(candleInterval(asked, span, max).name).toBe(expected);
  });
});
