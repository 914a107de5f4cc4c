import { describe, expect, it } from 'vitest';
import { MAX_PRICE_CONCURRENCY, priceWorkerConcurrency } from './workers.ts';

describe('priceWorkerConcurrency', () => {
  it.each([
    // interval, provider timeout, price jobs one worker runs at once
    [5000, 5000, 2], // the defaults: one fetch up to its timeout, and the next slot's
    [1000, 5000, 6],
    [1000, 1500, 3],
    [5000, 100, 2], // never fewer than 2: the next slot must not wait for a fetch to end
    [250, 120_000, MAX_PRICE_CONCURRENCY], // bounded: a hung provider gets no more than this
  ])('every %i ms with a %i ms provider timeout: %i', (interval, timeout, expected) => {
    expect(priceWorkerConcurrency(interval, timeout)).toBe(expected);
  });
});
