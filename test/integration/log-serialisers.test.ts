import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestDatabase, TEST_REDIS_URL } from '../helpers/services.ts';

/** A logger as the app builds it, writing its JSON lines here instead of to stdout. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('errors in the log carry no client internals', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await database.drop();
  });

  it("keeps a pg error's name, message, code and stack, not the pool's client and its secretKey", async () => {
    const { logger, lines } = capturingLogger();
    const handle = createDatabase(database.url, logger, { max: 1 });
    try {
      // An idle pooled connection ended by the server, as a PostgreSQL shutdown ends it: pg-pool attaches
      // the client (with its cancel secretKey) to the error it emits.
      const pid = (await handle.pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [pid]);
      await admin.end();
      await until(() => lines.some((line) => line.includes('idle connection lost')));
    } finally {
      await handle.close();
    }
    const line = lines.find((l) => l.includes('idle connection lost'))!;
    const err = (JSON.parse(line) as { err: Record<string, unknown> }).err;
    expect(Object.keys(err).sort()).toEqual(['code', 'message', 'name', 'stack']);
    expect(err.code).toBe('57P01');
    expect(line).not.toMatch(/secretKey|processID|connectionParameters|"client"/);
    expect(line.length).toBeLessThan(1500);
  });

  it("keeps an ioredis reply error's message, not the command's arguments", async () => {
    const { logger, lines } = capturingLogger();
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
    await redis.connect();
    try {
      // The machine's Redis has no password, so AUTH is refused; the error carries the command and its args.
      const error = await redis.auth('not-a-real-password-0123').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      logger.warn({ err: error }, 'redis command failed');
    } finally {
      redis.disconnect();
    }
    const line = lines.at(-1)!;
    expect(line).toContain('redis command failed');
    expect(line).not.toContain('not-a-real-password-0123');
    expect(Object.keys((JSON.parse(line) as { err: object }).err)).toEqual(
      expect.arrayContaining(['name', 'message', 'stack']),
    );
  });
});
