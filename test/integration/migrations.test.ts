import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate.ts';
import { createTestDatabase, migrateBefore } from '../helpers/services.ts';

describe('migrations', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(() => database?.drop());

  it('create the classic tables with keys, and are harmless to run again, even concurrently', async () => {
    await runMigrations(database.url);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(`insert into stock_prices values ('AAPL', 1.5, '2026-11-30T15:00:00Z')`);
      await Promise.all([runMigrations(database.url), runMigrations(database.url)]);
      await runMigrations(database.url);

      const tables = await client.query<{ table_name: string }>(
        // stock_prices' day partitions (drizzle/0011_*) are its storage, not tables of their own.
        `select table_name from information_schema.tables
         where table_schema = 'public' and table_name !~ '^stock_prices_p\\d{8}$' order by 1`,
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'alert_firings',
        'alert_rules',
        'deployment_identity',
        'stock_bars',
        'stock_highlow',
        'stock_image_urls',
        'stock_prices',
        'stock_prices_1m',
        'stock_prices_1m_pending',
        'stock_prices_retention',
        'symbols',
      ]);
      const keys = await client.query<{ table_name: string; columns: string }>(`
        select tc.table_name, string_agg(kcu.column_name, ',' order by kcu.ordinal_position) as columns
        from information_schema.table_constraints tc
        join information_schema.key_column_usage kcu using (constraint_schema, constraint_name)
        where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = 'public'
          and tc.table_name !~ '^stock_prices_p\\d{8}$'
        group by tc.table_name order by 1`);
      expect(keys.rows).toEqual([
        { table_name: 'alert_firings', columns: 'id' },
        { table_name: 'alert_rules', columns: 'id' },
        { table_name: 'deployment_identity', columns: 'singleton' },
        { table_name: 'stock_bars', columns: 'stock_name,start,interval_s' },
        { table_name: 'stock_highlow', columns: 'stock_name' },
        { table_name: 'stock_image_urls', columns: 'stock_name' },
        { table_name: 'stock_prices', columns: 'stock_name,time' },
        { table_name: 'stock_prices_1m', columns: 'stock_name,bucket' },
        { table_name: 'stock_prices_retention', columns: 'singleton' },
        { table_name: 'symbols', columns: 'ticker' },
      ]);
      const applied = await client.query('select count(*)::int as n from drizzle.__drizzle_migrations');
      const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'));
      expect(applied.rows[0].n).toBe(journal.entries.length);
      // One identity, made once: running the migrations again did not make another.
      const identities = await client.query('select count(*)::int as n from deployment_identity');
      expect(identities.rows[0].n).toBe(1);
      const kept = await client.query('select count(*)::int as n from stock_prices');
      expect(kept.rows[0].n).toBe(1);
      // The rollup's log saw the row, and re-running migrations did not count it twice.
      await client.query(`select stock_prices_1m_fold('infinity')`);
      const rollup = await client.query('select sum(count)::int as n from stock_prices_1m');
      expect(rollup.rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('refuse a price no provider answer could give, on any path, and keep rows stored before the check', async () => {
    const older = await createTestDatabase({ migrate: false });
    // The migrations as they were before the check (0000…0006), applied to a database that then gets a
    // row a hand-made job stored back then.
    const client = new pg.Client({ connectionString: older.url });
    await client.connect();
    try {
      await migrateBefore(client, 'price_check');
      await client.query(`insert into stock_prices values ('EVIL', -5, '2026-11-30T15:00:00Z')`);

      await runMigrations(older.url);
      const kept = await client.query('select stock_name, price::float8 as price from stock_prices');
      expect(kept.rows).toEqual([{ stock_name: 'EVIL', price: -5 }]);
      for (const price of ['-5', '0', '10000000.01', `'NaN'`]) {
        await expect(
          client.query(`insert into stock_prices values ('AAPL', ${price}, '2026-11-30T15:00:05Z')`),
        ).rejects.toThrow(/violates check constraint "stock_prices_price_in_range"/);
      }
      await client.query(`insert into stock_prices values ('AAPL', 10000000, '2026-11-30T15:00:05Z')`);
    } finally {
      await client.end();
      await older.drop();
    }
  });
});
