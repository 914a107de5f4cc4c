import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { startRollupFolding } from '../../src/db/rollup-folder.ts';
import { createTickRepository, type TickRepository } from '../../src/db/tick-repository.ts';
import { createTestDatabase, silentLogger } from '../helpers/services.ts';

const START = Date.UTC(2026, 10, 3, 14, 0, 0);

/**
 * Writes only log what they touched; folds rebuild the rollup from that log (drizzle/0006_*). These cases are
 * the ones a fold could get wrong: writers it cannot see yet, two folds at once, and minutes still open.
 */
describe('rollup log and fold', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let repo: TickRepository;
  let client: pg.Client;
  const count = async (table: string) =>
    (await client.query(`select count(*)::int as n from ${table}`)).rows[0].n as number;
  const rolledUp = async (ticker: string) =>
    (
      await client.query(
        'select coalesce(sum(count), 0)::int as n from stock_prices_1m where stock_name = $1',
        [ticker],
      )
    ).rows[0].n as number;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = createDatabase(database.url, silentLogger);
    repo = createTickRepository(handle.db);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  beforeEach(async () => {
    await client.query('truncate stock_prices');
  });

  afterAll(async () => {
    await client?.end();
    await handle?.close();
    await database?.drop();
  });

  it('logs one row per writing statement, and a fold rebuilds its buckets and empties the log', async () => {
    await repo.insertTicks(
      ['AAA', 'BBB', 'CCC'].map((ticker, i) => ({
        ticker,
        price: 10 + i,
        time: new Date(START + i * 61_000),
      })),
    );
    // Every row already stored: nothing new, nothing logged.
    await repo.insertTicks([{ ticker: 'AAA', price: 10, time: new Date(START) }]);
    const log = await client.query(
      'select stock_names, first_bucket, last_bucket from stock_prices_1m_pending',
    );
    expect(log.rows).toEqual([
      {
        stock_names: ['AAA', 'BBB', 'CCC'],
        first_bucket: new Date(START),
        last_bucket: new Date(START + 120_000),
      },
    ]);
    expect(await repo.rollupBacklog()).toEqual({ rows: 1, oldestBucket: new Date(START) });
    expect(await repo.foldRollup('all')).toBe(3);
    expect(await repo.rollupBacklog()).toEqual({ rows: 0, oldestBucket: undefined });
    expect(await count('stock_prices_1m')).toBe(3);
    // Nothing logged since: the next fold has nothing to do.
    expect(await repo.foldRollup('all')).toBe(0);
  });

  it('never loses a tick whose writer commits after the fold began', async () => {
    const writer = new pg.Client({ connectionString: database.url });
    await writer.connect();
    try {
      await writer.query('begin');
      await writer.query(`insert into stock_prices values ('LATE', 42.5, $1)`, [
        new Date(START).toISOString(),
      ]);
      // Invisible to the fold: neither the tick nor its log row is committed.
      await repo.foldRollup('all');
      await writer.query('commit');
      expect(await rolledUp('LATE')).toBe(0);
      expect(await count('stock_prices_1m_pending')).toBe(1);
      // Readers meanwhile take the logged bucket from the ticks.
      const [series] = await repo.history(
        ['LATE'],
        new Date(START - 86_400_000),
        new Date(START + 60_000),
        500,
      );
      expect(series!.source).toBe('minute');
      expect(series!.prices).toContain(42.5);
      await repo.foldRollup('all');
      expect(await rolledUp('LATE')).toBe(1);
    } finally {
      await writer.end();
    }
  });

  it('runs one fold at a time; another process skips its turn instead of waiting', async () => {
    await repo.insertTicks([{ ticker: 'ONE', price: 1, time: new Date(START) }]);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`select stock_prices_1m_fold('9999-01-01')`);
      expect(await repo.foldRollup('all')).toBeUndefined();
      await other.query('commit');
      expect(await rolledUp('ONE')).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('leaves minutes that are still open in the log, merged into one row, and reads them exactly', async () => {
    // Three statements in the minute now running (two seconds into it at least, so none is in the future).
    const now = Date.now();
    const minute = Math.floor((now - 2000) / 60_000) * 60_000;
    for (let i = 0; i < 3; i++) {
      await repo.insertTicks(
        ['OPA', 'OPB'].map((ticker, j) => ({
          ticker,
          price: 100 + i + j,
          time: new Date(minute + 1000 * i),
        })),
      );
    }
    await repo.insertTicks([{ ticker: 'OLD', price: 7, time: new Date(now - 3_600_000) }]);
    expect(await count('stock_prices_1m_pending')).toBe(4);
    // The default cut-off is the database's clock less the grace: the hour-old minute is folded.
    await repo.foldRollup();
    expect(await rolledUp('OLD')).toBe(1);
    expect(await rolledUp('OPA')).toBe(0);
    const left = await client.query('select stock_names, first_bucket from stock_prices_1m_pending');
    expect(left.rows).toEqual([{ stock_names: ['OPA', 'OPB'], first_bucket: new Date(minute) }]);
    // A day on 300 px: wide enough for the rollup side, so the open minute is read from the log's ticks.
    const series = await repo.history(['OPA', 'OPB'], new Date(now - 86_400_000), new Date(now), 300);
    expect(series.map((s) => s.source)).toEqual(['minute', 'minute']);
    expect(series.map((s) => Math.max(...s.prices))).toEqual([102, 103]);
    expect(series.map((s) => Math.min(...s.prices))).toEqual([100, 101]);
  });

  it('folds on a timer in every process, and a failed fold neither throws nor stops the timer', async () => {
    await repo.insertTicks([{ ticker: 'TMR', price: 3, time: new Date(START) }]);
    const folding = startRollupFolding(repo, silentLogger, 20);
    try {
      for (let i = 0; i < 500 && (await count('stock_prices_1m_pending')) > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await rolledUp('TMR')).toBe(1);
    } finally {
      await folding.stop();
    }

    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    // A database that is not there: the fold fails, is logged, and the next turn tries again.
    const gone = createDatabase('postgres://postgres@127.0.0.1:9/nothing', silentLogger);
    const failing = startRollupFolding(createTickRepository(gone.db), logger, 20);
    const skippedLines = () =>
      lines.filter((line) => line.includes('rollup fold skipped: database unavailable'));
    try {
      // Only the timer folds here: three failed turns in a row show it kept going after the first.
      for (let i = 0; i < 500 && skippedLines().length < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await failing.stop();
      await gone.close();
    }
    expect(skippedLines().length).toBeGreaterThanOrEqual(3);
  });
});
