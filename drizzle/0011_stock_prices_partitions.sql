-- Raw ticks are kept RETAIN_TICKS_DAYS; the minute rollup for ever. Deleting a day of ticks row by row
-- (17 M rows at 1,000 tickers every 5 s) would hold writers up, bloat the table and, through the delete
-- trigger, empty that day's rollup. So stock_prices becomes a table partitioned by UTC day: a day behind
-- the horizon is detached CONCURRENTLY and dropped (jobs/maintenance-processor.ts), which fires no row
-- trigger and takes no lock a writer waits on. The name stock_prices stays: the classic's SQL reads it.
--
-- Where raw ticks begin: readers (history, the rollup's fold) take anything before `horizon` from the
-- rollup only. NULL: nothing was ever dropped. One row, like deployment_identity.
CREATE TABLE "stock_prices_retention" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"horizon" timestamp with time zone,
	CONSTRAINT "stock_prices_retention_one_row" CHECK ("stock_prices_retention"."singleton")
);
--> statement-breakpoint
INSERT INTO stock_prices_retention DEFAULT VALUES;
--> statement-breakpoint
-- Makes the day partitions of [first_day, last_day] that are missing, none before the horizon (a write
-- stamped there is refused by the writer instead: src/db/tick-repository.ts). Each is made as a plain
-- table carrying its bounds as a CHECK and then attached: ATTACH takes SHARE UPDATE EXCLUSIVE on
-- stock_prices, which writers and readers pass, where CREATE TABLE … PARTITION OF takes ACCESS
-- EXCLUSIVE and would queue every price job behind the slowest open read. The CHECK spares the attach
-- its validating scan. An advisory lock keeps two processes from making the same day. Returns the
-- horizon ('-infinity' when none), so a writer knows what it may store.
CREATE OR REPLACE FUNCTION stock_prices_add_partitions(first_day date, last_day date) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
  since timestamptz := coalesce((SELECT horizon FROM stock_prices_retention), '-infinity');
  day date;
  name text;
  lower_bound timestamptz;
  upper_bound timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(7262536117450402);
  FOR day IN SELECT generate_series(greatest(first_day, (since AT TIME ZONE 'UTC')::date), last_day,
                                    interval '1 day')::date LOOP
    name := 'stock_prices_p' || to_char(day, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(quote_ident(name)) IS NOT NULL;
    lower_bound := day::timestamp AT TIME ZONE 'UTC';
    upper_bound := (day + 1)::timestamp AT TIME ZONE 'UTC';
    EXECUTE format('CREATE TABLE %I (LIKE stock_prices INCLUDING DEFAULTS)', name);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT stock_prices_price_in_range CHECK (price > 0 AND price <= 10000000)',
                   name);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK ("time" >= %L AND "time" < %L)',
                   name, name || '_day', lower_bound, upper_bound);
    EXECUTE format('ALTER TABLE stock_prices ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   name, lower_bound, upper_bound);
    -- Once attached the partition bound holds the rows; the CHECK has done its work.
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', name, name || '_day');
  END LOOP;
  RETURN since;
END;
$$;
--> statement-breakpoint
ALTER TABLE "stock_prices" RENAME TO "stock_prices_unpartitioned";
--> statement-breakpoint
ALTER TABLE "stock_prices_unpartitioned" RENAME CONSTRAINT "stock_prices_stock_name_time_pk" TO "stock_prices_unpartitioned_pk";
--> statement-breakpoint
-- The old table's rows move without touching the rollup, which already holds them.
DROP TRIGGER "stock_prices_1m_log_inserted" ON "stock_prices_unpartitioned";
--> statement-breakpoint
DROP TRIGGER "stock_prices_1m_log_deleted" ON "stock_prices_unpartitioned";
--> statement-breakpoint
DROP TRIGGER "stock_prices_1m_log_updated" ON "stock_prices_unpartitioned";
--> statement-breakpoint
DROP TRIGGER "stock_prices_1m_after_truncate" ON "stock_prices_unpartitioned";
--> statement-breakpoint
CREATE TABLE "stock_prices" (
	"stock_name" text NOT NULL,
	"price" numeric NOT NULL,
	"time" timestamp with time zone NOT NULL,
	CONSTRAINT "stock_prices_stock_name_time_pk" PRIMARY KEY("stock_name","time")
) PARTITION BY RANGE ("time");
--> statement-breakpoint
-- 0007's price check is held by each day partition (stock_prices_add_partitions), not by stock_prices: a
-- day that holds a row stored before 0007 keeps it there with the check NOT VALID, as 0007 did, which a
-- partitioned table's own check could not.
-- Every day that holds ticks, and the month before today to a week ahead: the window every default
-- writer uses (RETAIN_TICKS_DAYS=30) is there before the first start. The maintenance job keeps it so.
SELECT stock_prices_add_partitions(
  least((SELECT min("time") AT TIME ZONE 'UTC' FROM stock_prices_unpartitioned)::date, (now() AT TIME ZONE 'UTC')::date - 31),
  greatest((SELECT max("time") AT TIME ZONE 'UTC' FROM stock_prices_unpartitioned)::date, (now() AT TIME ZONE 'UTC')::date + 7));
--> statement-breakpoint
-- The rows move before the log trigger exists on the new table: the rollup already holds them.
DO $$
DECLARE
  odd record;
BEGIN
  FOR odd IN SELECT DISTINCT 'stock_prices_p' || to_char(("time" AT TIME ZONE 'UTC')::date, 'YYYYMMDD') AS name
             FROM stock_prices_unpartitioned WHERE NOT (price > 0 AND price <= 10000000) LOOP
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT stock_prices_price_in_range', odd.name);
  END LOOP;
  INSERT INTO stock_prices SELECT stock_name, price, "time" FROM stock_prices_unpartitioned;
  FOR odd IN SELECT DISTINCT 'stock_prices_p' || to_char(("time" AT TIME ZONE 'UTC')::date, 'YYYYMMDD') AS name
             FROM stock_prices_unpartitioned WHERE NOT (price > 0 AND price <= 10000000) LOOP
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT stock_prices_price_in_range '
                   'CHECK (price > 0 AND price <= 10000000) NOT VALID', odd.name);
  END LOOP;
END;
$$;
--> statement-breakpoint
DROP TABLE stock_prices_unpartitioned;
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_log_inserted
  AFTER INSERT ON stock_prices
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_log_inserted();
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_log_deleted
  AFTER DELETE ON stock_prices
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_log_deleted();
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_log_updated
  AFTER UPDATE ON stock_prices
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_log_updated();
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_after_truncate
  AFTER TRUNCATE ON stock_prices
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_after_truncate();
--> statement-breakpoint
-- 0006's fold, whole (a function is replaced whole), clamped to the horizon: a logged span reaching into a dropped day would otherwise rebuild
-- those minutes from no ticks and empty the rollup that is now their only record. Only the buckets at or
-- after the horizon are rebuilt; the others keep what the rollup holds.
CREATE OR REPLACE FUNCTION stock_prices_1m_fold(settled_before timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  names text[];
  firsts timestamptz[];
  lasts timestamptz[];
  since timestamptz;
BEGIN
  IF NOT pg_try_advisory_xact_lock(7262536117450401) THEN
    RETURN NULL;
  END IF;
  -- stock_prices is locked before the horizon is read. The maintenance job commits a new horizon first and
  -- only then detaches the days behind it, and DETACH … CONCURRENTLY waits for every transaction holding
  -- a lock on stock_prices: so either this fold still sees those days whole, or it reads the new horizon.
  LOCK TABLE stock_prices IN ACCESS SHARE MODE;
  since := coalesce((SELECT horizon FROM stock_prices_retention), '-infinity');
  WITH taken AS (
    DELETE FROM stock_prices_1m_pending WHERE last_bucket + interval '1 minute' <= settled_before
    RETURNING stock_names, first_bucket, last_bucket
  )
  SELECT array_agg(stock_name), array_agg(first_bucket), array_agg(last_bucket) INTO names, firsts, lasts
  FROM (SELECT name AS stock_name, greatest(min(first_bucket), since) AS first_bucket,
               max(last_bucket) AS last_bucket
        FROM taken, unnest(stock_names) AS name
        GROUP BY name) AS spans;
  WITH open AS (
    DELETE FROM stock_prices_1m_pending
    WHERE (first_bucket, last_bucket) IN (SELECT first_bucket, last_bucket FROM stock_prices_1m_pending
                                          GROUP BY 1, 2 HAVING count(*) > 1)
    RETURNING stock_names, first_bucket, last_bucket
  )
  INSERT INTO stock_prices_1m_pending (stock_names, first_bucket, last_bucket)
  SELECT array_agg(DISTINCT name), first_bucket, last_bucket
  FROM open, unnest(stock_names) AS name
  GROUP BY first_bucket, last_bucket;
  IF names IS NULL THEN
    RETURN 0;
  END IF;
  DELETE FROM stock_prices_1m AS r
  USING unnest(names, firsts, lasts) AS s(stock_name, first_bucket, last_bucket)
  WHERE r.stock_name = s.stock_name AND r.bucket >= s.first_bucket AND r.bucket <= s.last_bucket;
  INSERT INTO stock_prices_1m (stock_name, bucket, first_time, first_price, last_time, last_price,
                               min_time, min_price, max_time, max_price, count)
  SELECT p.stock_name,
         date_bin('1 minute', p.time, timestamptz '2000-01-01 00:00:00+00'),
         min(p.time), (array_agg(p.price ORDER BY p.time))[1],
         max(p.time), (array_agg(p.price ORDER BY p.time DESC))[1],
         (array_agg(p.time ORDER BY p.price, p.time))[1], min(p.price),
         (array_agg(p.time ORDER BY p.price DESC, p.time))[1], max(p.price),
         count(*)
  FROM unnest(names, firsts, lasts) AS s(stock_name, first_bucket, last_bucket)
  JOIN stock_prices AS p
    ON p.stock_name = s.stock_name AND p.time >= s.first_bucket AND p.time < s.last_bucket + interval '1 minute'
  GROUP BY 1, 2;
  RETURN cardinality(names);
END;
$$;
