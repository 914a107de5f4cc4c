CREATE TABLE "stock_prices_1m_pending" (
	"stock_names" text[] NOT NULL,
	"first_bucket" timestamp with time zone NOT NULL,
	"last_bucket" timestamp with time zone NOT NULL
);
--> statement-breakpoint
-- Until now every write merged itself into stock_prices_1m: one upsert per ticker per statement, which cost a
-- 1,000-ticker price job about 20 ms of its 33 ms insert (docs/BENCHMARKS.md, P3). Now a write only logs what it
-- touched, one row per statement, and a fold rebuilds the logged buckets from stock_prices in bulk, every few
-- seconds. Readers take logged buckets from stock_prices, so the chart is exact at every moment in between.
-- One log row: the tickers a statement touched and the minute buckets from its first row's to its last's.
CREATE OR REPLACE FUNCTION stock_prices_1m_log(names text[], first_time timestamptz, last_time timestamptz)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO stock_prices_1m_pending (stock_names, first_bucket, last_bucket)
  SELECT names,
         date_bin('1 minute', first_time, timestamptz '2000-01-01 00:00:00+00'),
         date_bin('1 minute', last_time, timestamptz '2000-01-01 00:00:00+00')
  WHERE names IS NOT NULL;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION stock_prices_1m_log_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stock_prices_1m_log(array_agg(DISTINCT stock_name), min(time), max(time)) FROM new_rows;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION stock_prices_1m_log_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stock_prices_1m_log(array_agg(DISTINCT stock_name), min(time), max(time)) FROM old_rows;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- A row may move to another ticker or minute: both where it was and where it is now are logged.
CREATE OR REPLACE FUNCTION stock_prices_1m_log_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stock_prices_1m_log(array_agg(DISTINCT stock_name), min(time), max(time))
  FROM (SELECT stock_name, time FROM old_rows UNION ALL SELECT stock_name, time FROM new_rows) AS touched;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION stock_prices_1m_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE stock_prices_1m, stock_prices_1m_pending;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Rebuilds, from the rows in stock_prices, every logged bucket of a log row whose last minute ended by
-- `settled_before`, and removes those log rows, in one transaction. The log rows left (minutes still open)
-- are merged into one row per span, so a reader scans a few rows however many statements wrote. Returns how
-- many tickers were rebuilt, or NULL when another fold holds the lock: two would rebuild the same buckets
-- and collide on the rollup's key. A log row whose writer has not committed is invisible here and stays
-- for the next fold; its ticks commit with it, so every log row taken has its ticks visible to the rebuild.
CREATE OR REPLACE FUNCTION stock_prices_1m_fold(settled_before timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  names text[];
  firsts timestamptz[];
  lasts timestamptz[];
BEGIN
  IF NOT pg_try_advisory_xact_lock(7262536117450401) THEN
    RETURN NULL;
  END IF;
  WITH taken AS (
    DELETE FROM stock_prices_1m_pending WHERE last_bucket + interval '1 minute' <= settled_before
    RETURNING stock_names, first_bucket, last_bucket
  )
  SELECT array_agg(stock_name), array_agg(first_bucket), array_agg(last_bucket) INTO names, firsts, lasts
  FROM (SELECT name AS stock_name, min(first_bucket) AS first_bucket, max(last_bucket) AS last_bucket
        FROM taken, unnest(stock_names) AS name
        GROUP BY name) AS spans;
  -- Only spans logged more than once are merged: a span already down to one row is left as it is.
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
--> statement-breakpoint
DROP TRIGGER stock_prices_1m_after_insert ON stock_prices;
--> statement-breakpoint
DROP TRIGGER stock_prices_1m_after_delete ON stock_prices;
--> statement-breakpoint
DROP TRIGGER stock_prices_1m_after_update ON stock_prices;
--> statement-breakpoint
DROP FUNCTION stock_prices_1m_merge();
--> statement-breakpoint
DROP FUNCTION stock_prices_1m_after_delete();
--> statement-breakpoint
DROP FUNCTION stock_prices_1m_after_update();
--> statement-breakpoint
DROP FUNCTION stock_prices_1m_rebuild(text[], timestamptz[]);
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
