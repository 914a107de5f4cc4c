import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInitialLoad, type InitialLoadOptions } from './initial-load.ts';
import { systemTimers } from './timers.ts';

/** A promise settled from the test. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A page whose server answers attempt n with `answers[n]` (a value, an Error, or a deferred to settle later),
 * recording what the machine did, in order.
 */
function harness(
  answers: (string | Error | ReturnType<typeof deferred<string>>)[],
  overrides: Partial<InitialLoadOptions<string>> = {},
) {
  const events: string[] = [];
  let backfillsDone = 0;
  const load = createInitialLoad<string>({
    fetch(attempt) {
      events.push(`fetch ${attempt}`);
      const answer = answers[attempt] ?? new Error('no answer');
      const data =
        typeof answer === 'string'
          ? Promise.resolve(answer)
          : answer instanceof Error
            ? Promise.reject(answer)
            : answer.promise;
      return { beforeFeed: attempt === 0, data };
    },
    merge: (data) => {
      events.push(`merge ${data} (loaded: ${load.loaded()})`);
    },
    draw: () => events.push('draw'),
    backfill: async () => {
      events.push('backfill');
      backfillsDone++;
    },
    onRetry: (_error, delayMs) => events.push(`retry in ${delayMs}`),
    retryDelayMs: (attempt) => 1000 * 2 ** attempt,
    timers: systemTimers,
    ...overrides,
  });
  return { load, events, backfills: () => backfillsDone };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the first load', () => {
  it('merges before it counts as loaded, then draws, in one round trip when the server answers', async () => {
    const { load, events } = harness(['data']);
    expect(load.loaded()).toBe(false);
    await load.start();
    expect(events).toEqual(['fetch 0', 'merge data (loaded: false)', 'draw']);
    expect(load.loaded()).toBe(true);
  });

  it('retries with the backoff it is given until the server answers', async () => {
    const { load, events } = harness([new Error('down'), new Error('down'), 'data']);
    const done = load.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(events).toEqual(['fetch 0', 'retry in 1000']);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toEqual(['fetch 0', 'retry in 1000', 'fetch 1', 'retry in 2000']);
    await vi.advanceTimersByTimeAsync(1999);
    expect(events).not.toContain('fetch 2');
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(events.slice(-3)).toEqual(['fetch 2', 'merge data (loaded: false)', 'draw']);
    expect(load.loaded()).toBe(true);
  });

  it('a throw while drawing is retried like a failed fetch', async () => {
    let draws = 0;
    const { load, events } = harness(['a', 'b'], {
      draw: () => {
        draws++;
        if (draws === 1) throw new Error('draw failed');
      },
    });
    const done = load.start();
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    expect(draws).toBe(2);
    expect(events).toContain('retry in 1000');
  });

  it('the live stream connecting ends the wait between attempts at once', async () => {
    const { load, events } = harness([new Error('down'), 'data']);
    const done = load.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(events).toEqual(['fetch 0', 'retry in 1000']);
    load.connected(false);
    await done;
    expect(events).toContain('fetch 1');
    expect(load.loaded()).toBe(true);
    // the cancelled backoff timer does not start another attempt later
    await vi.advanceTimersByTimeAsync(5000);
    expect(events.filter((e) => e.startsWith('fetch'))).toEqual(['fetch 0', 'fetch 1']);
  });
});

describe('backfills around the first load', () => {
  it('a reconnect during the first load backfills once, right after it', async () => {
    const answer = deferred<string>();
    const { load, events, backfills } = harness([answer]);
    const done = load.start();
    load.connected(false); // history was read before the stream opened: wants a backfill
    load.connected(true); // and two drops and reconnects while the load is in flight
    load.connected(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(backfills()).toBe(0);
    answer.resolve('data');
    await done;
    expect(events).toEqual(['fetch 0', 'merge data (loaded: false)', 'draw', 'backfill']);
    expect(backfills()).toBe(1);
  });

  it('history read before the stream opened is backfilled on its first connection, once', async () => {
    const { load, backfills } = harness(['data']);
    await load.start();
    expect(backfills()).toBe(0);
    load.connected(false);
    expect(backfills()).toBe(1);
    // a second "first" connection (the stream restarted from scratch) owes nothing more
    load.connected(false);
    expect(backfills()).toBe(1);
  });

  it('history read after the stream opened needs no backfill on connecting; a reconnect always does', async () => {
    const { load, backfills } = harness([new Error('down'), 'data'], {
      fetch(attempt) {
        return {
          beforeFeed: false,
          data: attempt === 0 ? Promise.reject(new Error('down')) : Promise.resolve('data'),
        };
      },
    });
    const done = load.start();
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    load.connected(false);
    expect(backfills()).toBe(0);
    load.connected(true);
    load.connected(true);
    expect(backfills()).toBe(2);
  });

  it('asked for once loaded, a backfill runs at once, each time', async () => {
    const { load, backfills } = harness(['data']);
    load.backfill();
    await load.start();
    expect(backfills()).toBe(1); // the one asked for before the load, after it
    load.backfill();
    load.backfill();
    expect(backfills()).toBe(3);
  });
});
