import { describe, expect, it } from 'vitest';
import { pointAtOrBefore } from './chart-keyboard.ts';

describe('pointAtOrBefore (a keyboard reader resuming after a redraw)', () => {
  const points: [number, number][] = [
    [10, 1],
    [20, 2],
    [30, 3],
  ];
  it.each([
    { time: 20, expected: 1 },
    { time: 25, expected: 1 },
    { time: 99, expected: 2 },
    { time: 5, expected: 0 },
  ])('time $time → point $expected', ({ time, expected }) => {
    expect(pointAtOrBefore(points, time)).toBe(expected);
  });
});
