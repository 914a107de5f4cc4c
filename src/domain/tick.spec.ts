import { describe, expect, it } from 'vitest';
import { parseTicks, serializeTicks } from './tick.ts';

describe('tick wire format', () => {
  it('round-trips', () => {
    const ticks = [{ ticker: 'AAPL', price: 270.12, time: new Date('2026-11-30T15:00:05Z') }];
    expect(parseTicks(JSON.parse(serializeTicks(ticks)))).toEqual(ticks);
  });
  it.each([
    [null],
    ['x'],
    [{ ticker: 'A' }],
    [[{ ticker: 'A', price: 'NaN', time: '2026-01-01T00:00:00Z' }]],
    [[{ ticker: 'A', price: 1, time: 'yesterday' }]],
    [[{ ticker: 1, price: 1, time: '2026-01-01T00:00:00Z' }]],
  ])('drops malformed payload %j', (payload) => {
    expect(parseTicks(payload)).toEqual([]);
  });
});
