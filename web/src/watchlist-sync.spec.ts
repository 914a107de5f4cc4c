import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers } from './timers.ts';
import type { Stock } from './types.ts';
import {
  createWatchlistSync,
  DETAILS_RELOAD_MS,
  DETAILS_RELOADS,
  WATCHLIST_RELOAD_MS,
} from './watchlist-sync.ts';

const stock = (ticker: string, complete = true): Stock =>
  ({
    ticker,
    enabled: true,
    companyName: complete ? `${ticker} Inc.` : null,
    logoUrl: complete ? `/logos/${ticker}.png` : null,
    high52Week: complete ? 10 : null,
    low52Week: complete ? 5 : null,
  }) as Stock;

function harness(watchlist: () => Stock[], loaded = true) {
  const calls = { fetches: 0, histories: [] as string[][], errors: [] as unknown[] };
  let held = new Set<string>();
  const sync = createWatchlistSync({
    fetch: async () => {
      calls.fetches++;
      return watchlist();
    },
    use: (stocks) => {
      const added = stocks.map((s) => s.ticker).filter((t) => !held.has(t));
      held = new Set(stocks.map((s) => s.ticker));
      return added;
    },
    loadHistory: async (tickers) => {
      calls.histories.push([...tickers]);
    },
    loaded: () => loaded,
    onError: (error) => calls.errors.push(error),
    timers: systemTimers,
  });
  return { sync, calls };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('reading the watchlist again', () => {
  it('loads the history of the tickers it adds, once loaded', async () => {
    let list = [stock('AAPL')];
    const { sync, calls } = harness(() => list);
    await sync.reload();
    list = [stock('AAPL'), stock('MSFT')];
    await sync.reload();
    expect(calls.histories).toEqual([['AAPL'], ['MSFT']]);
  });

  it('leaves history to the first load before it is done', async () => {
    const { sync, calls } = harness(() => [stock('AAPL')], false);
    await sync.reload();
    expect(calls.histories).toEqual([]);
  });

  it('coalesces a burst of unknown tickers into one reload, and at most one per interval', async () => {
    const { sync, calls } = harness(() => [stock('AAPL')]);
    for (let i = 0; i < 50; i++) sync.unknownTicker();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.fetches).toBe(1);
    // more unknown ticks right after: the next reload waits out the interval
    sync.unknownTicker();
    sync.unknownTicker();
    await vi.advanceTimersByTimeAsync(WATCHLIST_RELOAD_MS - 1);
    expect(calls.fetches).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.fetches).toBe(2);
  });

  it('ignores unknown tickers before the first load (it reads the watchlist itself)', async () => {
    const { sync, calls } = harness(() => [stock('AAPL')], false);
    sync.unknownTicker();
    await vi.advanceTimersByTimeAsync(WATCHLIST_RELOAD_MS * 2);
    expect(calls.fetches).toBe(0);
  });

  it('a failed reload is reported and does not block the next one', async () => {
    let fail = true;
    const { sync, calls } = harness(() => {
      if (fail) throw new Error('HTTP 502');
      return [stock('AAPL')];
    });
    sync.unknownTicker();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.errors).toEqual([new Error('HTTP 502')]);
    fail = false;
    sync.unknownTicker();
    await vi.advanceTimersByTimeAsync(WATCHLIST_RELOAD_MS);
    expect(calls.fetches).toBe(2);
  });

  it("looks again for a new ticker's name, logo and range every few seconds, a bounded number of times", async () => {
    const { sync, calls } = harness(() => [stock('AAPL'), stock('NEW', false)]);
    await sync.reload();
    await vi.advanceTimersByTimeAsync(DETAILS_RELOAD_MS * (DETAILS_RELOADS + 5));
    expect(calls.fetches).toBe(1 + DETAILS_RELOADS);
  });

  it('stops looking once the details are there', async () => {
    let complete = false;
    const { sync, calls } = harness(() => [stock('NEW', complete)]);
    await sync.reload();
    await vi.advanceTimersByTimeAsync(DETAILS_RELOAD_MS);
    expect(calls.fetches).toBe(2);
    complete = true;
    await vi.advanceTimersByTimeAsync(DETAILS_RELOAD_MS);
    expect(calls.fetches).toBe(3);
    await vi.advanceTimersByTimeAsync(DETAILS_RELOAD_MS * 5);
    expect(calls.fetches).toBe(3);
  });
});
