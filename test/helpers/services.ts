import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate.ts';

/**
 * Tests reach the machine's own PostgreSQL and Redis (ARCHITECTURE.md, "Tests"). Each test file gets a
 * fresh database and a unique BullMQ prefix, so files run in parallel without seeing each other's data.
 */
export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function uniqueName(kind: string): string {
  return `ss_${kind}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates an empty database (migrated unless `migrate: false`); `drop()` removes it. */
export async function createTestDatabase(options: { migrate?: boolean } = {}) {
  const name = uniqueName('db');
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(TEST_POSTGRES_URL, name);
  if (options.migrate !== false) await runMigrations(url);
  return {
    name,
    url,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * Applies the migrations as they were before the one whose tag ends with `tagEnd` (a database from back
 * then), so a test can store what such a database held and see the later ones carry it over.
 */
export async function migrateBefore(client: pg.Client, tagEnd: string): Promise<void> {
  const folder = mkdtempSync(path.join(tmpdir(), 'migrations-'));
  try {
    cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
    const journal = JSON.parse(readFileSync(path.join(folder, 'meta/_journal.json'), 'utf8'));
    // Drizzle applies only migrations newer than the last one applied, so the later ones go too.
    const stop = journal.entries.findIndex((entry: { tag: string }) => entry.tag.endsWith(tagEnd));
    if (stop < 0) throw new Error(`no migration tagged …${tagEnd}`);
    journal.entries = journal.entries.slice(0, stop);
    writeFileSync(path.join(folder, 'meta/_journal.json'), JSON.stringify(journal));
    await migrate(drizzle(client), { migrationsFolder: folder });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Deletes every key under a test's BullMQ prefix; the shared Redis keeps nothing from a run. */
export async function removeRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The environment of a test app: real services, a private prefix, a fast interval unless overridden. */
export function testEnv(databaseUrl: string, prefix: string, extra: Record<string, string> = {}) {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'silent',
    // A test that wants history filled says so; the others start with an empty chart, as they always did.
    BACKFILL_DAYS: '0',
    // Nor do they depend on the hour they run at: a test of the market calendar sets its own clock.
    MARKET_CALENDAR: 'ignore',
    ...extra,
  };
}

/**
 * Folds the rollup's whole log (drizzle/0006_*). A running app's own fold may hold the lock, which makes a
 * fold skip its turn: this one waits until it has run.
 */
export async function foldWholeLog(client: pg.Client): Promise<void> {
  while ((await client.query(`select stock_prices_1m_fold('infinity') as n`)).rows[0].n === null) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One Redis connection for a test file; after the file, it is closed and every key under `prefix` removed. */
export function useTestRedis(prefix: string): () => Redis {
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await removeRedisPrefix(prefix);
  });
  return () => redis!;
}
