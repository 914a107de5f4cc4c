import { describe, expect, it } from 'vitest';
import { axisValue, significant, valueScale } from './value-scale.ts';

describe('valueScale', () => {
  it('draws dollars as they are on a linear price axis', () => {
    expect(valueScale('price', false, undefined)?.toValue(151.25)).toBe(151.25);
  });

  it('draws the % change from the base when comparing', () => {
    expect(valueScale('percent', false, 200)?.toValue(210)).toBeCloseTo(5, 10);
    expect(valueScale('percent', false, 200)?.toValue(190)).toBeCloseTo(-5, 10);
  });

  it('puts a $1,000 and a $100 stock that both rose 10 % at the same height when comparing', () => {
    expect(valueScale('percent', false, 1000)?.toValue(1100)).toBeCloseTo(10, 10);
    expect(valueScale('percent', false, 100)?.toValue(110)).toBeCloseTo(10, 10);
  });

  it('puts equal ratios at equal distances on a log axis, whatever the price', () => {
    const scale = valueScale('price', true, undefined)!;
    const cheapDoubling = scale.toValue(40) - scale.toValue(20);
    const dearDoubling = scale.toValue(800) - scale.toValue(400);
    expect(cheapDoubling).toBeCloseTo(dearDoubling, 12);
    expect(cheapDoubling).toBeCloseTo(Math.log10(2), 12);
  });

  it('compares on a log axis as the log of the ratio to the base: 0 at the base', () => {
    const scale = valueScale('percent', true, 50)!;
    expect(scale.toValue(50)).toBe(0);
    expect(scale.toValue(100)).toBeCloseTo(Math.log10(2), 12);
  });

  it('refuses compare mode without a usable base, and a log compare from a non-positive one', () => {
    expect(valueScale('percent', false, undefined)).toBeNull();
    expect(valueScale('percent', false, 0)).toBeNull();
    expect(valueScale('percent', false, Number.NaN)).toBeNull();
    expect(valueScale('percent', true, -3)).toBeNull();
    expect(valueScale('percent', false, -3)).not.toBeNull();
  });
});

describe('axisValue', () => {
  it('is the value itself on a linear axis', () => {
    expect(axisValue('price', false, 151.5)).toBe(151.5);
    expect(axisValue('percent', false, -2.5)).toBe(-2.5);
  });

  it('turns a log tick back into dollars, to three significant digits', () => {
    expect(axisValue('price', true, 2)).toBe(100);
    expect(axisValue('price', true, 2.2)).toBe(158);
    expect(axisValue('price', true, 1.4)).toBe(25.1);
  });

  it('turns a log compare tick back into a % change, to two significant digits', () => {
    expect(axisValue('percent', true, 0)).toBe(0);
    expect(axisValue('percent', true, Math.log10(2))).toBe(100);
    expect(axisValue('percent', true, 0.02)).toBe(4.7);
    expect(axisValue('percent', true, -0.1)).toBe(-21);
  });
});

describe('significant', () => {
  it('rounds to significant digits and leaves zero and non-finite values alone', () => {
    expect(significant(158.489, 3)).toBe(158);
    expect(significant(0.012345, 2)).toBe(0.012);
    expect(significant(0, 3)).toBe(0);
    expect(significant(Number.POSITIVE_INFINITY, 3)).toBe(Number.POSITIVE_INFINITY);
  });
});
