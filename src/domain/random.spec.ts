import { describe, expect, it } from 'vitest';
import { brownianAt, brownianPath, gaussian, hashString, mix } from './random.ts';

describe('gaussian', () => {
  it('has mean ~0 and variance ~1 over many hashes', () => {
    const n = 50_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const x = gaussian(mix(12345, i));
      sum += x;
      squares += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(squares / n - 1)).toBeLessThan(0.03);
  });
});

describe('brownianAt', () => {
  const seed = hashString('test');

  it('is a pure function of seed and time', () => {
    expect(brownianAt(seed, 1_000_000)).toBe(brownianAt(seed, 1_000_000));
    expect(brownianAt(seed, 1_000_000)).not.toBe(brownianAt(hashString('other'), 1_000_000));
  });

  it('starts at 0', () => {
    expect(brownianAt(seed, 0)).toBe(0);
  });

  it('has independent increments with variance equal to the time step', () => {
    // Increments over 5 s at many points: their variance should be ~5 and lag-1 correlation ~0.
    const base = 2 ** 37;
    const steps = 20_000;
    const increments: number[] = [];
    let previous = brownianAt(seed, base);
    for (let i = 1; i <= steps; i++) {
      const w = brownianAt(seed, base + i * 5);
      increments.push(w - previous);
      previous = w;
    }
    const mean = increments.reduce((a, b) => a + b, 0) / steps;
    const variance = increments.reduce((a, b) => a + (b - mean) ** 2, 0) / steps;
    let covariance = 0;
    for (let i = 1; i < steps; i++) covariance += (increments[i]! - mean) * (increments[i - 1]! - mean);
    covariance /= steps - 1;
    expect(variance).toBeGreaterThan(4.7);
    expect(variance).toBeLessThan(5.3);
    expect(Math.abs(covariance / variance)).toBeLessThan(0.03);
  });

  it('rejects times outside its span', () => {
    expect(() => brownianAt(seed, -1)).toThrow(RangeError);
    expect(() => brownianAt(seed, 1.5)).toThrow(RangeError);
  });
});

describe('brownianPath', () => {
  it('gives brownianAt bit for bit, walking on, jumping away and landing on interval ends', () => {
    const seed = 0x5eed;
    const path = brownianPath(seed);
    const base = 2 ** 37 + 123_456;
    const times = [
      ...Array.from({ length: 300 }, (_, i) => base + i),
      base - 4096,
      base + 5_000_000,
      base + 1,
      // Ends of remembered intervals (multiples of 4096) and their neighbours.
      4096 * 33_554_500,
      4096 * 33_554_500 - 1,
      4096 * 33_554_500 + 1,
      0,
      2 ** 38,
      2 ** 38 - 1,
      base,
    ];
    for (const t of times) expect(Object.is(path(t), brownianAt(seed, t))).toBe(true);
  });

  it('keeps the values of the construction before the path remembered intervals (stored history joins them)', () => {
    // Computed with the one-descent-per-call brownianAt of commit be4a99d, seed 0x5eed.
    const golden: [number, number][] = [
      [137439076928, -128918.11179409052],
      [137439076929, -128916.24542344954],
      [137439081023, -128823.42570334568],
      [137444076928, -130056.94985028417],
      [137439232000, -128248.89373239015],
      [0, 0],
      [274877906944, 118193.75364724742],
      [12345, 150.5874447284109],
    ];
    const path = brownianPath(0x5eed);
    for (const [t, w] of golden) expect(path(t)).toBe(w);
  });

  it('rejects times outside its span, as brownianAt does', () => {
    const path = brownianPath(1);
    expect(() => path(-1)).toThrow(RangeError);
    expect(() => path(0.5)).toThrow(RangeError);
  });
});
