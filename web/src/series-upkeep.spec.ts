import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FOLD_EVERY_MS, PRUNE_EVERY_MS, startSeriesUpkeep } from './series-upkeep.ts';
import { systemTimers } from './timers.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a page left open's upkeep", () => {
  it('prunes hourly and folds every five minutes while following live, not while zoomed in', () => {
    let following = true;
    const prune = vi.fn();
    const fold = vi.fn();
    startSeriesUpkeep({ prune, fold, following: () => following, timers: systemTimers });
    vi.advanceTimersByTime(FOLD_EVERY_MS);
    expect(fold).toHaveBeenCalledTimes(1);
    following = false;
    vi.advanceTimersByTime(FOLD_EVERY_MS * 3);
    expect(fold).toHaveBeenCalledTimes(1);
    following = true;
    vi.advanceTimersByTime(PRUNE_EVERY_MS - FOLD_EVERY_MS * 4);
    expect(prune).toHaveBeenCalledTimes(1);
    expect(fold).toHaveBeenCalledTimes(1 + 8);
  });
});
