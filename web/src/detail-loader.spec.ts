import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDetailLoader, DETAIL_DELAY_MS } from './detail-loader.ts';
import type { TimeWindow } from './ranges.ts';
import { systemTimers } from './timers.ts';

function harness(fail = false) {
  const loads: { window: TimeWindow; signal: AbortSignal; settle(): void }[] = [];
  const errors: unknown[] = [];
  const loader = createDetailLoader({
    load: (window, signal) =>
      new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        loads.push({ window, signal, settle: () => (fail ? reject(new Error('HTTP 500')) : resolve()) });
      }),
    onError: (error) => errors.push(error),
    timers: systemTimers,
  });
  return { loader, loads, errors };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the zoom detail loader', () => {
  it('fetches a window once the view has stayed on it for the delay', async () => {
    const { loader, loads } = harness();
    loader.schedule({ min: 1, max: 2 });
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS - 1);
    expect(loads).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(loads.map((l) => l.window)).toEqual([{ min: 1, max: 2 }]);
  });

  it('coalesces a burst of view changes (a wheel zoom) into one fetch of the last window', async () => {
    const { loader, loads } = harness();
    for (let step = 0; step < 10; step++) {
      loader.schedule({ min: step, max: 100 });
      await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS / 2);
    }
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS);
    expect(loads.map((l) => l.window)).toEqual([{ min: 9, max: 100 }]);
  });

  it('a newer window aborts the fetch of the older one, quietly', async () => {
    const { loader, loads, errors } = harness();
    loader.schedule({ min: 1, max: 2 });
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS);
    loader.schedule({ min: 3, max: 4 });
    // still waiting for the newer one to settle: the older fetch goes on meanwhile
    expect(loads[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS);
    expect(loads[0]!.signal.aborted).toBe(true);
    expect(loads[1]!.signal.aborted).toBe(false);
    expect(loads[1]!.window).toEqual({ min: 3, max: 4 });
    expect(errors).toEqual([]);
  });

  it('reports a fetch that failed on its own', async () => {
    const { loader, loads, errors } = harness(true);
    loader.schedule({ min: 1, max: 2 });
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS);
    loads[0]!.settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toEqual([new Error('HTTP 500')]);
  });

  it('back to live drops a waiting fetch and aborts one under way, quietly', async () => {
    const { loader, loads, errors } = harness();
    loader.schedule({ min: 1, max: 2 });
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS);
    loader.schedule({ min: 3, max: 4 });
    loader.cancel();
    expect(loads[0]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS * 4);
    expect(loads).toHaveLength(1);
    expect(errors).toEqual([]);
    // a later zoom fetches as before
    loader.schedule({ min: 5, max: 6 });
    await vi.advanceTimersByTimeAsync(DETAIL_DELAY_MS);
    expect(loads.map((l) => l.window)).toEqual([
      { min: 1, max: 2 },
      { min: 5, max: 6 },
    ]);
  });
});
