import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { createHistoryCache, type HistoryCache } from '../../src/db/history-cache.ts';
import { createTickRepository, type TickRepository } from '../../src/db/tick-repository.ts';
import { hashString, mix, uniform } from '../../src/domain/random.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { createTestDatabase, silentLogger } from '../helpers/services.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2026, 10, 20, 0, 0, 0);
const END = START + 48 * HOUR;
const TICKERS = ['AAPL', 'INTC'];

/** A random walk every 20 s with the odd spike: two days of it. */
function generate(ticker: string, from: number, to: number): Tick[] {
  const seed = hashString(ticker);
  const ticks: Tick[] = [];
  let price = 100;
  for (let t = from, i = 0; t < to; t += 20_000, i++) {
    const u = uniform(mix(seed, i));
    price = Math.max(1, Math.round((price + (u - 0.5) * 0.5) * 100) / 100);
    ticks.push({ ticker, price: u > 0.998 ? Math.round(price * 110) / 100 : price, time: new Date(t) });
  }
  return ticks;
}

describe('the history cache (closed rollup columns kept in memory)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let repo: TickRepository;
  let cache: HistoryCache;
  let now: number;
  /** Every rollup read the cache makes, as [ticker count, ranges]. */
  let reads: (readonly (readonly [number, number])[])[];
  /** Runs once inside the next rollup read, before it returns: a tick stored meanwhile. */
  let duringNextRead: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = createDatabase(database.url, silentLogger);
    repo = createTickRepository(handle.db);
    for (const ticker of TICKERS) await repo.insertTicks(generate(ticker, START, END));
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  beforeEach(() => {
    now = END + MINUTE;
    reads = [];
    duringNextRead = undefined;
    // The real repository, watched: which ranges of the rollup each read asks for.
    const watched: TickRepository = {
      ...repo,
      async minuteColumns(tickers, plan, ranges) {
        reads.push(ranges.filter(([a, b]) => b > a));
        const result = await repo.minuteColumns(tickers, plan, ranges);
        const during = duringNextRead;
        duringNextRead = undefined;
        await during?.();
        return result;
      },
    };
    cache = createHistoryCache(watched, { now: () => now });
  });

  const window = (hours: number, to = now) => [new Date(to - hours * HOUR), new Date(to)] as const;
  const bucketsRead = (ranges: readonly (readonly [number, number])[]) =>
    ranges.reduce((n, [a, b]) => n + (b - a) / MINUTE, 0);

  it('answers exactly what the repository answers, across windows, widths and a moving clock', async () => {
    for (const [hours, width] of [
      [40, 1200],
      [40, 1200],
      [36, 900],
      [40, 1200],
      [47, 1000],
    ] as const) {
      now += 37_000;
      const [from, to] = window(hours, Math.min(now, END + 30_000));
      const expected = await repo.history(TICKERS, from, to, width);
      expect(await cache.history(TICKERS, from, to, width)).toEqual(expected);
    }
  });

  it('reads only the window’s edges once the closed columns are known', async () => {
    const [from, to] = window(40);
    await cache.history(TICKERS, from, to, 1200);
    expect(bucketsRead(reads[0]!)).toBeGreaterThan(39 * 60);
    now += 20_000;
    const [from2, to2] = window(40);
    const answer = await cache.history(TICKERS, from2, to2, 1200);
    expect(answer).toEqual(await repo.history(TICKERS, from2, to2, 1200));
    // 2-minute columns: the cut first one, and the last few that are not settled yet.
    expect(bucketsRead(reads[1]!)).toBeLessThan(10);
  });

  it('drops the columns a late tick falls into, when told, and answers with it', async () => {
    const [from, to] = window(40);
    await cache.history(TICKERS, from, to, 1200);
    // A tick the pipeline stores late (after an outage) into a column long closed: a new daily high.
    const late: Tick = { ticker: 'AAPL', price: 999.99, time: new Date(END - 20 * HOUR + 7_000) };
    expect(await repo.insertTicks([late])).toHaveLength(1);
    const stale = await cache.history(TICKERS, from, to, 1200);
    expect(stale[0]!.prices).not.toContain(999.99);
    cache.forget([late]);
    const fresh = await cache.history(TICKERS, from, to, 1200);
    expect(fresh[0]!.prices).toContain(999.99);
    expect(fresh).toEqual(await repo.history(TICKERS, from, to, 1200));
    expect(bucketsRead(reads[2]!)).toBeGreaterThan(19 * 60);
  });

  it('does not keep what a read fetched while a tick was being stored into it', async () => {
    const [from, to] = window(40);
    const late: Tick = { ticker: 'INTC', price: 0.01, time: new Date(END - 30 * HOUR + 3_000) };
    duringNextRead = async () => {
      await repo.insertTicks([late]);
      cache.forget([late]);
    };
    const first = await cache.history(TICKERS, from, to, 1200);
    expect(first[1]!.prices).not.toContain(0.01);
    const second = await cache.history(TICKERS, from, to, 1200);
    expect(second[1]!.prices).toContain(0.01);
    expect(second).toEqual(await repo.history(TICKERS, from, to, 1200));
  });

  it('trusts cached columns for ten minutes, and nothing after clear()', async () => {
    const [from, to] = window(40);
    await cache.history(TICKERS, from, to, 1200);
    await cache.history(TICKERS, from, to, 1200);
    expect(bucketsRead(reads[1]!)).toBeLessThan(10);
    cache.clear();
    await cache.history(TICKERS, from, to, 1200);
    expect(bucketsRead(reads[2]!)).toBeGreaterThan(39 * 60);
    now += 11 * MINUTE;
    await cache.history(TICKERS, from, to, 1200);
    expect(bucketsRead(reads[3]!)).toBeGreaterThan(39 * 60);
  });

  it('holds at most maxColumns columns, dropping the least recently read width first', async () => {
    const small = createHistoryCache(repo, { now: () => now, maxColumns: 1500 });
    const [from, to] = window(40);
    // 40 hours at 1200 px: 2-minute columns, ~1,200 per ticker; at 600 px, 4-minute ones.
    const wide = await small.history(TICKERS, from, to, 1200);
    expect(small.size()).toBeLessThanOrEqual(1500);
    expect(small.size()).toBeGreaterThan(500);
    now += 1000;
    const narrow = await small.history(TICKERS, from, to, 600);
    expect(small.size()).toBeLessThanOrEqual(1500);
    expect(narrow).toEqual(await repo.history(TICKERS, from, to, 600));
    expect(await small.history(TICKERS, from, to, 1200)).toEqual(wide);
    // Dropping columns on a late tick gives their count back.
    const before = small.size();
    small.forget(TICKERS.map((ticker) => ({ ticker, price: 1, time: new Date(END - 30 * HOUR) })));
    expect(small.size()).toBeLessThan(before);
    small.clear();
    expect(small.size()).toBe(0);
  });

  it('passes narrow windows (raw ticks) straight to the repository', async () => {
    const [from, to] = window(1);
    expect(await cache.history(TICKERS, from, to, 1200)).toEqual(await repo.history(TICKERS, from, to, 1200));
    expect(reads).toHaveLength(0);
  });
});
