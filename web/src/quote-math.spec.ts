import { describe, expect, it } from 'vitest';
import { describeCloseChange, monogramUrl, rangePosition, safeLogoUrl, windowChange } from './quote-math.ts';
import type { PreviousClose } from './types.ts';

describe('windowChange', () => {
  it.each([
    { start: 100, last: 110, expected: { absolute: 10, percent: 10 } },
    { start: 200, last: 150, expected: { absolute: -50, percent: -25 } },
    { start: 100, last: 100, expected: { absolute: 0, percent: 0 } },
    { start: 0, last: 10, expected: undefined },
    { start: null, last: 10, expected: undefined },
    { start: 10, last: undefined, expected: undefined },
    { start: Number.NaN, last: 10, expected: undefined },
  ])('$start → $last', ({ start, last, expected }) => {
    expect(windowChange(start, last)).toEqual(expected);
  });
});

describe('rangePosition', () => {
  it.each([
    { price: 150, low: 100, high: 200, expected: 0.5 },
    { price: 100, low: 100, high: 200, expected: 0 },
    { price: 200, low: 100, high: 200, expected: 1 },
    { price: 250, low: 100, high: 200, expected: 1 }, // a live price past a range fetched earlier: at the edge
    { price: 50, low: 100, high: 200, expected: 0 },
    { price: 150, low: 200, high: 100, expected: undefined }, // inverted
    { price: 150, low: 100, high: 100, expected: undefined }, // empty
    { price: null, low: 100, high: 200, expected: undefined },
    { price: 150, low: null, high: 200, expected: undefined },
  ])('$price in $low…$high is $expected', ({ price, low, high, expected }) => {
    expect(rangePosition(price, low, high)).toBe(expected);
  });
});

describe('safeLogoUrl', () => {
  it.each([
    ['/logos/AAPL.svg', 'AAPL', '/logos/AAPL.svg'],
    ['https://static2.finnhub.io/file/logo/AAPL.png', 'AAPL', '/logos/AAPL.svg'],
    ['//evil.example/x.svg', 'AAPL', '/logos/AAPL.svg'],
    ['/\\evil.example/x.svg', 'AAPL', '/logos/AAPL.svg'],
    ['javascript:alert(1)', 'AAPL', '/logos/AAPL.svg'],
    ['data:image/svg+xml,<svg/>', 'AAPL', '/logos/AAPL.svg'],
    [null, 'BRK.B', '/logos/BRK.B.svg'],
    ['', 'GE', '/logos/GE.svg'],
  ])('%s for %s → %s', (url, ticker, expected) => {
    expect(safeLogoUrl(url, ticker)).toBe(expected);
  });

  it('escapes the ticker in the monogram path', () => {
    expect(monogramUrl('A/B')).toBe('/logos/A%2FB.svg');
  });
});

describe('describeCloseChange', () => {
  const friday = '2026-12-04T21:00:00.000Z';
  const thursday = '2026-12-03T21:00:00.000Z';
  it.each<[string, number | null, PreviousClose | null, ReturnType<typeof describeCloseChange>]>([
    [
      'in session: since the previous close',
      308.29,
      { price: 307, sessionClose: friday, basis: 'SINCE_CLOSE', changeOfSessionClose: null },
      { text: '▲ +$1.29 (+0.42%) since Fri close', direction: 'up' },
    ],
    [
      'closed after a session: that session against the close before it',
      306.5,
      { price: 307, sessionClose: thursday, basis: 'SESSION', changeOfSessionClose: friday },
      { text: '▼ −$0.50 (−0.16%) Fri, vs Thu close', direction: 'down' },
    ],
    [
      'unchanged to the cent',
      307.001,
      { price: 307, sessionClose: friday, basis: 'SINCE_CLOSE', changeOfSessionClose: null },
      { text: '$0.00 (0.00%) since Fri close', direction: 'flat' },
    ],
    ['no close stored', 307, null, undefined],
    [
      'no price yet',
      null,
      { price: 307, sessionClose: friday, basis: 'SINCE_CLOSE', changeOfSessionClose: null },
      undefined,
    ],
  ])('%s', (_, latest, close, expected) => {
    expect(describeCloseChange(latest, close)).toEqual(expected);
  });
});
