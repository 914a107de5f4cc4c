import { setImmediate } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import { slotTimes } from '../domain/history-gaps.ts';
import type { Quote } from '../domain/market-records.ts';
import { monogramPath } from '../domain/monogram.ts';
import {
  simulatedCompany,
  simulatedFiftyTwoWeekRange,
  simulatedPricePath,
} from '../domain/simulated-market.ts';
import type { BatchResult, FetchOptions, MarketDataProvider } from './provider.ts';

/**
 * The offline default: deterministic prices for a seed (geometric Brownian motion around realistic levels),
 * company names, monogram logos served by this app, and 52-week ranges taken from the same price path.
 * A quote is stamped with the exact instant it observes, milliseconds included: `asOf` (a price job's
 * scheduler slot, which BullMQ may place anywhere within a second after a restart) or else the clock. A
 * retry or a late run of a slot asks as of the same instant, so it is the same observation and the
 * (stock_name, time) key stores it once. The price itself is the path's value for the second holding
 * that instant (the path is defined per second; see simulatedPricePath).
 */
/** Prices computed between two turns of the event loop while filling history: about 10 ms of work. */
const HISTORY_SLICE = 3000;

export function createSimulatedProvider(options: { seed: string; clock: Clock }): MarketDataProvider {
  const { seed, clock } = options;
  const map = async <T>(
    symbols: readonly string[],
    fetchOptions: FetchOptions | undefined,
    one: (symbol: string) => T,
  ): Promise<BatchResult<T>> => {
    fetchOptions?.signal?.throwIfAborted();
    return { ok: symbols.map(one), failed: [] };
  };
  const now = (asOf?: Date) => new Date((asOf ?? clock.now()).getTime());
  // A path's anchor costs as much as a price: kept per ticker, it halves a 1,000-symbol fetch (~4.5 ms to
  // ~2 ms). Bounded by the watchlist, which holds only valid tickers.
  const paths = new Map<string, (at: Date) => number>();
  const priceOf = (symbol: string, at: Date) => {
    let path = paths.get(symbol);
    if (!path) {
      path = simulatedPricePath(seed, symbol);
      paths.set(symbol, path);
    }
    return path(at);
  };

  return {
    name: 'simulated',
    priceBatching: 'one-request',
    getQuotes(symbols, fetchOptions) {
      const time = now(fetchOptions?.asOf);
      return map(symbols, fetchOptions, (symbol) => ({
        symbol,
        price: priceOf(symbol, time),
        time,
      }));
    },
    getProfiles(symbols, fetchOptions) {
      return map(symbols, fetchOptions, (symbol) => ({
        symbol,
        name: simulatedCompany(symbol).name,
        logoUrl: monogramPath(symbol),
      }));
    },
    // The simulation's past is exact: the prices a price job would have observed on each slot of the span.
    // Computed in slices that each give the event loop back: a day at a 1 s step is 86,400 prices, ~270 ms
    // of work, and the live price job of this same worker process must not wait behind it (bench P7 saw
    // slots taken 715 ms late while a backfill ran).
    async getHistory(symbol, span, fetchOptions) {
      const slots = slotTimes({ startMs: span.from.getTime(), endMs: span.to.getTime() }, span.stepMs);
      const ticks: Quote[] = [];
      for (let i = 0; i < slots.length; i += HISTORY_SLICE) {
        fetchOptions?.signal?.throwIfAborted();
        if (i > 0) await setImmediate();
        for (const ms of slots.slice(i, i + HISTORY_SLICE)) {
          const time = new Date(Math.floor(ms / 1000) * 1000);
          ticks.push({ symbol, price: priceOf(symbol, time), time });
        }
      }
      return { ticks };
    },
    getFiftyTwoWeekRanges(symbols, fetchOptions) {
      const time = now();
      return map(symbols, fetchOptions, (symbol) => ({
        symbol,
        ...simulatedFiftyTwoWeekRange(seed, symbol, time),
      }));
    },
  };
}
