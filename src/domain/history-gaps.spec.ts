import { describe, expect, it } from 'vitest';
import { missingSpans, slotsIn, slotTimes } from './history-gaps.ts';

const HOUR = 3_600_000;

describe('slotsIn', () => {
  it.each([
    [0, 5000, 5000, 1],
    [1, 5000, 5000, 0],
    [0, HOUR, 5000, 720],
    [2500, 12_500, 5000, 2],
    [5000, 5000, 5000, 0],
  ])('[%i, %i) at %i ms holds %i slots', (startMs, endMs, step, expected) => {
    expect(slotsIn({ startMs, endMs }, step)).toBe(expected);
    expect(slotTimes({ startMs, endMs }, step)).toHaveLength(expected);
  });
});

describe('missingSpans', () => {
  const day = { startMs: 0, endMs: 24 * HOUR };

  it('asks for the whole window when nothing is stored, in spans of at most a day', () => {
    expect(missingSpans({ startMs: 0, endMs: 50 * HOUR }, new Map(), 5000)).toEqual([
      { startMs: 0, endMs: 24 * HOUR },
      { startMs: 24 * HOUR, endMs: 48 * HOUR },
      { startMs: 48 * HOUR, endMs: 50 * HOUR },
    ]);
  });

  it('finds an outage of ten minutes as the one hour that holds it', () => {
    const stored = new Map(Array.from({ length: 24 }, (_, h) => [h * HOUR, 720] as [number, number]));
    stored.set(5 * HOUR, 720 - 120);
    expect(missingSpans(day, stored, 5000)).toEqual([{ startMs: 5 * HOUR, endMs: 6 * HOUR }]);
  });

  it('merges neighbouring incomplete hours and nothing else', () => {
    const stored = new Map(Array.from({ length: 24 }, (_, h) => [h * HOUR, 720] as [number, number]));
    stored.set(2 * HOUR, 0);
    stored.set(3 * HOUR, 10);
    stored.set(7 * HOUR, 719);
    expect(missingSpans(day, stored, 5000)).toEqual([
      { startMs: 2 * HOUR, endMs: 4 * HOUR },
      { startMs: 7 * HOUR, endMs: 8 * HOUR },
    ]);
  });

  it('clips the ragged ends of the window and counts only their slots', () => {
    const window = { startMs: HOUR / 2, endMs: 2 * HOUR + 60_000 };
    const stored = new Map([
      [0, 360],
      [HOUR, 720],
      [2 * HOUR, 12],
    ]);
    expect(missingSpans(window, stored, 5000)).toEqual([]);
    stored.set(2 * HOUR, 11);
    expect(missingSpans(window, stored, 5000)).toEqual([{ startMs: 2 * HOUR, endMs: 2 * HOUR + 60_000 }]);
  });

  it('never asks for a piece when the market is closed', () => {
    const isOpen = (piece: { startMs: number }) => piece.startMs >= 10 * HOUR && piece.startMs < 12 * HOUR;
    expect(missingSpans(day, new Map(), 5000, { isOpen })).toEqual([
      { startMs: 10 * HOUR, endMs: 12 * HOUR },
    ]);
  });
});
