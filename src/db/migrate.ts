import path from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { packageRoot } from '../package-root.ts';

/** drizzle-kit's output, committed; found from this file so the cwd does not matter. */
export const MIGRATIONS_FOLDER = path.join(packageRoot(import.meta.url), 'drizzle');

// An arbitrary constant that names "stockstreamer migrations" among Postgres advisory locks.
const MIGRATION_LOCK_KEY = 0x5_70c_5e;

/**
 * Applies pending migrations. Safe to run any number of times, and from several processes at once: an
 * advisory lock on one connection serialises them, and the migrator skips what is already applied.
 */
export async function runMigrations(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'stockstreamer-migrate' });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
