import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { MAX_PRICE } from '../domain/tick.ts';

/**
 * The classic stockstreamer's three tables keep their names and columns, so its SQL still reads the data;
 * what changed is that each now has a key, which makes every write idempotent (a retried job cannot double
 * a row) and lets logos and ranges be upserted instead of deleted and re-inserted.
 */
export const stockPrices = pgTable(
  'stock_prices',
  {
    stockName: text('stock_name').notNull(),
    price: numeric('price', { mode: 'number' }).notNull(),
    time: timestamp('time', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.stockName, table.time] }),
    // The rules every writer checks first (src/providers/validate.ts), held by the database too, so that
    // no path at all (a script, a psql session, a future job) can store a price a provider answer could
    // not. The migration adds it NOT VALID: rows stored before it are left as they are. Since stock_prices
    // is partitioned by day (drizzle/0011_*), each day partition holds it (NOT VALID only on a day that
    // holds such a row), and stock_prices itself declares it only here, for drizzle-kit.
    check(
      'stock_prices_price_in_range',
      sql`${table.price} > 0 AND ${table.price} <= ${sql.raw(String(MAX_PRICE))}`,
    ),
  ],
);

export const stockImageUrls = pgTable('stock_image_urls', {
  stockName: text('stock_name').primaryKey(),
  imageUrl: text('image_url').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const stockHighLow = pgTable('stock_highlow', {
  stockName: text('stock_name').primaryKey(),
  highVal52wk: numeric('high_val52wk', { mode: 'number' }).notNull(),
  lowVal52wk: numeric('low_val52wk', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** The watchlist: which tickers the price job fetches and the page draws. Seeded from `SYMBOLS`. */
export const symbols = pgTable('symbols', {
  ticker: text('ticker').primaryKey(),
  companyName: text('company_name'),
  enabled: boolean('enabled').notNull().default(true),
  addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  /**
   * Set when the market-data provider named in `unknown_provider` said it does not know the ticker: the
   * price job stops asking that provider for it (the slow 52-week job still asks, and an answer clears the
   * mark). Another provider is not bound by it. Shown in GraphQL as `Stock.unknownReason`.
   */
  unknownReason: text('unknown_reason'),
  unknownProvider: text('unknown_provider'),
  unknownAt: timestamp('unknown_at', { withTimezone: true, mode: 'date' }),
});

/**
 * Where raw ticks begin: stock_prices is partitioned by UTC day (drizzle/0011_*), and the maintenance job
 * drops the days before `horizon` (RETAIN_TICKS_DAYS). Readers take anything before it from the minute
 * rollup, which is kept for ever, and the rollup's fold never rebuilds a minute there. Null: nothing was
 * dropped yet. One row, like deployment_identity.
 */
export const stockPricesRetention = pgTable(
  'stock_prices_retention',
  {
    singleton: boolean('singleton').primaryKey().default(true),
    horizon: timestamp('horizon', { withTimezone: true, mode: 'date' }),
  },
  (table) => [check('stock_prices_retention_one_row', sql`${table.singleton}`)],
);

/**
 * Per ticker and minute: the first, last, lowest and highest price with their times, and a count — exactly
 * the inputs of M4 (Jugel et al., VLDB 2014). Chart windows whose pixel columns span whole minutes are
 * reduced from here (about 10k rows per ticker for 7 days instead of 120k). Kept exact for every write path
 * — the workers, COPY, the classic's SQL, deletes and updates — by logging what each statement touched in
 * `stock_prices_1m_pending` and folding that log in later (drizzle/0006_*, `TickRepository.foldRollup`).
 */
export const stockPricesMinute = pgTable(
  'stock_prices_1m',
  {
    stockName: text('stock_name').notNull(),
    bucket: timestamp('bucket', { withTimezone: true, mode: 'date' }).notNull(),
    firstTime: timestamp('first_time', { withTimezone: true, mode: 'date' }).notNull(),
    firstPrice: numeric('first_price', { mode: 'number' }).notNull(),
    lastTime: timestamp('last_time', { withTimezone: true, mode: 'date' }).notNull(),
    lastPrice: numeric('last_price', { mode: 'number' }).notNull(),
    minTime: timestamp('min_time', { withTimezone: true, mode: 'date' }).notNull(),
    minPrice: numeric('min_price', { mode: 'number' }).notNull(),
    maxTime: timestamp('max_time', { withTimezone: true, mode: 'date' }).notNull(),
    maxPrice: numeric('max_price', { mode: 'number' }).notNull(),
    count: integer('count').notNull(),
    // Each summary point packed into one bigint (seconds since 2000 and whole cents), ordered so that a
    // plain min() or max() picks the right point: the history query then hash-aggregates integers instead
    // of building arrays per row, about 5x faster on 7 days (see docs/BENCHMARKS.md). Cents: wide windows
    // are drawn to the cent; the raw-tick path keeps full precision.
    packedFirst: bigint('packed_first', { mode: 'bigint' }).generatedAlwaysAs(
      sql`(floor(extract(epoch from first_time - timestamptz '2000-01-01Z'))::bigint << 31) | round(first_price * 100)::bigint`,
    ),
    packedLast: bigint('packed_last', { mode: 'bigint' }).generatedAlwaysAs(
      sql`(floor(extract(epoch from last_time - timestamptz '2000-01-01Z'))::bigint << 31) | round(last_price * 100)::bigint`,
    ),
    packedMin: bigint('packed_min', { mode: 'bigint' }).generatedAlwaysAs(
      sql`(round(min_price * 100)::bigint << 32) | floor(extract(epoch from min_time - timestamptz '2000-01-01Z'))::bigint`,
    ),
    packedMax: bigint('packed_max', { mode: 'bigint' }).generatedAlwaysAs(
      sql`(round(max_price * 100)::bigint << 32) | (4294967295 - floor(extract(epoch from max_time - timestamptz '2000-01-01Z'))::bigint)`,
    ),
  },
  (table) => [primaryKey({ columns: [table.stockName, table.bucket] })],
);

/**
 * The rollup's to-do list: one row per statement that wrote stock_prices, naming the tickers it touched and
 * the minute buckets it spanned (inclusive). Until a fold rebuilds those buckets from stock_prices and
 * deletes the row, readers take them from stock_prices instead of the rollup. A write costs one row here
 * instead of an upsert per ticker (drizzle/0006_*); no key, so writers never wait on each other or on a fold.
 */
export const stockPricesMinutePending = pgTable('stock_prices_1m_pending', {
  stockNames: text('stock_names').array().notNull(),
  firstBucket: timestamp('first_bucket', { withTimezone: true, mode: 'date' }).notNull(),
  lastBucket: timestamp('last_bucket', { withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * Price alert rules (src/domain/alert-rule.ts says what each kind means). Besides what the admin set, a
 * rule carries the state its evaluation keeps (src/db/alert-repository.ts): whether it is armed, how many
 * times it re-armed (`arm_seq`, the crossing's number), the newest tick time it has judged (so a retried or
 * late price job's ticks are not judged twice) and when it last fired (its cooldown).
 */
export const alertRules = pgTable(
  'alert_rules',
  {
    id: serial('id').primaryKey(),
    ticker: text('ticker').notNull(),
    kind: text('kind').notNull(),
    threshold: numeric('threshold', { mode: 'number' }),
    windowS: integer('window_s'),
    cooldownS: integer('cooldown_s').notNull().default(0),
    paused: boolean('paused').notNull().default(false),
    armed: boolean('armed').notNull().default(true),
    armSeq: integer('arm_seq').notNull().default(0),
    evaluatedThrough: timestamp('evaluated_through', { withTimezone: true, mode: 'date' }),
    lastFiredAt: timestamp('last_fired_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    check('alert_rules_kind', sql`${table.kind} in ('above', 'below', 'move', 'high52', 'low52', 'stale')`),
    // Evaluation joins a price batch's tickers to their rules.
    index('alert_rules_ticker').on(table.ticker),
  ],
);

/**
 * Every time a rule fired, with the tick that fired it. `(rule_id, arm_seq)` is the idempotency key of a
 * crossing: however many jobs or workers judge the same ticks, one row per crossing. No foreign key: the
 * log outlives a deleted rule (ticker, kind and threshold are copied). `announced_at` is set once the
 * firing was published and handed to the webhook queue; a retried evaluation announces what is still null.
 */
export const alertFirings = pgTable(
  'alert_firings',
  {
    id: serial('id').primaryKey(),
    ruleId: integer('rule_id').notNull(),
    armSeq: integer('arm_seq').notNull(),
    ticker: text('ticker').notNull(),
    kind: text('kind').notNull(),
    threshold: numeric('threshold', { mode: 'number' }),
    windowS: integer('window_s'),
    price: numeric('price', { mode: 'number' }).notNull(),
    tickTime: timestamp('tick_time', { withTimezone: true, mode: 'date' }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    announcedAt: timestamp('announced_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    unique('alert_firings_crossing').on(table.ruleId, table.armSeq),
    // The log and the chart's markers read a ticker's firings over a window.
    index('alert_firings_ticker_time').on(table.ticker, table.tickTime),
  ],
);

/**
 * This database's identity: one row holding a random id, made once by the migration. A deployment claims
 * its QUEUE_PREFIX in Redis with this id (src/namespace-claim.ts), so a process of another database on the
 * same prefix is refused while every process of this one (more workers, more APIs) is welcome. A random id
 * kept in the database survives moving the database to another server, where Postgres' own identifiers
 * would change; a copy of the database (restored backup) keeps the id, which is what a restore wants.
 */
export const deploymentIdentity = pgTable(
  'deployment_identity',
  {
    /** Always true: the key that keeps the table to one row. */
    singleton: boolean('singleton').primaryKey().default(true),
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [check('deployment_identity_one_row', sql`${table.singleton}`)],
);

/**
 * Provider bars, kept apart from observed ticks: what a history endpoint answered for a whole interval
 * (a minute, usually) of a ticker, with its open, high, low, close and, where the provider says, volume.
 * Filled by the history jobs (jobs/history-processor.ts) for providers whose past comes as bars; the
 * simulated market's past is exact ticks and goes to stock_prices instead. Idempotent: PK (ticker, start,
 * interval), written with ON CONFLICT DO NOTHING.
 */
export const stockBars = pgTable(
  'stock_bars',
  {
    stockName: text('stock_name').notNull(),
    start: timestamp('start', { withTimezone: true, mode: 'date' }).notNull(),
    intervalS: integer('interval_s').notNull(),
    open: numeric('open', { mode: 'number' }).notNull(),
    high: numeric('high', { mode: 'number' }).notNull(),
    low: numeric('low', { mode: 'number' }).notNull(),
    close: numeric('close', { mode: 'number' }).notNull(),
    volume: bigint('volume', { mode: 'number' }),
    /** The PROVIDER that answered it. */
    provider: text('provider').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.stockName, table.start, table.intervalS] }),
    check(
      'stock_bars_prices_in_range',
      sql`${table.low} > 0 AND ${table.high} <= ${sql.raw(String(MAX_PRICE))} AND ${table.low} <= ${table.high}`,
    ),
  ],
);
