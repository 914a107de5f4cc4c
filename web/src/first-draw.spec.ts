import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { afterFirstDataDraw, FIRST_DRAW_WAIT_MS } from './first-draw.ts';
import { systemTimers } from './timers.ts';

/** Frames the test paints one at a time. */
function frames() {
  let queue: (() => void)[] = [];
  return {
    nextFrame: (callback: () => void) => void queue.push(callback),
    paint() {
      const due = queue;
      queue = [];
      for (const callback of due) callback();
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('after the first draw with data', () => {
  it('calls back in a task after the frame that paints the draw, not before', async () => {
    let drawn = false;
    const screen = frames();
    const callback = vi.fn();
    afterFirstDataDraw({ drawn: () => drawn, nextFrame: screen.nextFrame, timers: systemTimers }, callback);
    screen.paint();
    screen.paint();
    await vi.advanceTimersByTimeAsync(10);
    expect(callback).not.toHaveBeenCalled();
    drawn = true;
    screen.paint(); // sees the draw
    await vi.advanceTimersByTimeAsync(10);
    expect(callback).not.toHaveBeenCalled();
    screen.paint(); // the frame showing it
    await vi.advanceTimersByTimeAsync(0);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('gives up waiting after a while (a hidden tab paints no frames), and calls back only once', async () => {
    const screen = frames();
    const callback = vi.fn();
    afterFirstDataDraw({ drawn: () => false, nextFrame: screen.nextFrame, timers: systemTimers }, callback);
    await vi.advanceTimersByTimeAsync(FIRST_DRAW_WAIT_MS - 1);
    expect(callback).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(callback).toHaveBeenCalledTimes(1);
    screen.paint();
    await vi.advanceTimersByTimeAsync(FIRST_DRAW_WAIT_MS);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('nothing to draw (an empty watchlist) goes on after the next frame', async () => {
    const screen = frames();
    const callback = vi.fn();
    afterFirstDataDraw({ drawn: () => true, nextFrame: screen.nextFrame, timers: systemTimers }, callback);
    screen.paint();
    await vi.advanceTimersByTimeAsync(0);
    expect(callback).toHaveBeenCalledTimes(1);
  });
});
