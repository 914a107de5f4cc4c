import { describe, expect, it } from 'vitest';
import {
  describeClosedMarket,
  escapeHtml,
  formatAxisDollars,
  formatAxisPercent,
  formatClock,
  formatDollars,
  formatLogAxisDollars,
  formatPercent,
  formatSignedDollars,
  formatTooltipTime,
  MISSING,
} from './format.ts';

describe('formatDollars', () => {
  it.each([
    [0, '$0.00'],
    [1, '$1.00'],
    [189.4, '$189.40'],
    [189.456, '$189.46'],
    [1234.5, '$1,234.50'],
    [1_234_567.891, '$1,234,567.89'],
    [-0.5, '-$0.50'],
    [null, MISSING],
    [undefined, MISSING],
    [Number.NaN, MISSING],
    [Number.POSITIVE_INFINITY, MISSING],
  ])('%s → %s', (value, expected) => {
    expect(formatDollars(value)).toBe(expected);
  });
});

describe('formatAxisDollars', () => {
  it.each([
    [0, '$0'],
    [200, '$200'],
    [1000, '$1,000'],
    [151.5, '$151.50'],
    [0.25, '$0.25'],
    [1250.75, '$1,250.75'],
    [-2500, '-$2,500'],
    [151.000_000_01, '$151'], // float noise from the tick arithmetic
    [Number.NaN, ''],
  ])('%s → %s', (value, expected) => {
    expect(formatAxisDollars(value)).toBe(expected);
  });
});

describe('formatClock', () => {
  it.each([
    [Date.UTC(2026, 10, 30, 14, 5, 3), '14:05:03'],
    [Date.UTC(2026, 10, 30, 0, 0, 9), '00:00:09'], // h23: never "24:00:09"
    [Date.UTC(2026, 10, 30, 23, 59, 59), '23:59:59'],
  ])('%s → %s in UTC', (ms, expected) => {
    expect(formatClock(ms, 'UTC', 'en-US')).toBe(expected);
  });

  it('shows the missing mark for no time', () => {
    expect(formatClock(null)).toBe(MISSING);
  });
});

describe('formatSignedDollars', () => {
  it.each([
    [1.234, '+$1.23'],
    [-0.5, '−$0.50'],
    [0.004, '$0.00'],
    [1234.5, '+$1,234.50'],
    [null, MISSING],
  ])('%s → %s', (value, expected) => {
    expect(formatSignedDollars(value)).toBe(expected);
  });
});

describe('formatPercent', () => {
  it.each([
    [1.234, '+1.23%'],
    [-0.5, '−0.50%'],
    [0.004, '0.00%'],
    [undefined, MISSING],
  ])('%s → %s', (value, expected) => {
    expect(formatPercent(value)).toBe(expected);
  });
});

describe('formatAxisPercent', () => {
  it.each([
    [0, '0%'],
    [5, '+5%'],
    [-2.5, '−2.5%'],
    [0.25, '+0.25%'],
    [10.000_000_1, '+10%'],
    [Number.NaN, ''],
  ])('%s → %s', (value, expected) => {
    expect(formatAxisPercent(value)).toBe(expected);
  });
});

describe('formatTooltipTime', () => {
  it('names the day and gives the clock to the second', () => {
    expect(formatTooltipTime(Date.UTC(2026, 10, 30, 14, 5, 3), 'UTC')).toBe('Mon 30 Nov, 14:05:03');
    expect(formatTooltipTime(Date.UTC(2026, 10, 30, 0, 0, 9), 'UTC')).toBe('Mon 30 Nov, 00:00:09');
    expect(formatTooltipTime(null)).toBe(MISSING);
  });
});

describe('escapeHtml', () => {
  it('makes markup inert', () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;',
    );
  });
});

describe('describeClosedMarket', () => {
  it.each([
    [
      '2026-12-04T21:00:00.000Z',
      '2026-12-07T14:30:00.000Z',
      'market closed · last close Fri 16:00 ET · opens Mon 09:30 ET',
    ],
    [
      '2026-12-24T18:00:00.000Z',
      '2026-12-28T14:30:00.000Z',
      'market closed · last close Thu 13:00 ET · opens Mon 09:30 ET',
    ],
    [null, null, 'market closed'],
  ])('%s, %s → %s', (lastClose, nextOpen, expected) => {
    expect(describeClosedMarket(lastClose, nextOpen)).toBe(expected);
  });
});

describe('formatLogAxisDollars', () => {
  it('shows a log tick as rounded, without padding cents', () => {
    expect(formatLogAxisDollars(56.2)).toBe('$56.2');
    expect(formatLogAxisDollars(158)).toBe('$158');
    expect(formatLogAxisDollars(1000)).toBe('$1,000');
    expect(formatLogAxisDollars(0.0123)).toBe('$0.0123');
    expect(formatLogAxisDollars(Number.NaN)).toBe('');
  });
});
