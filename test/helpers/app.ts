import { createManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { type Role, startRole } from '../../src/start.ts';
import { createTestDatabase, removeRedisPrefix, silentLogger, testEnv, uniqueName } from './services.ts';

/**
 * A real stockstreamer (real Postgres database, real Redis, real BullMQ and Yoga) on a free port, with a
 * manual clock so a test decides when time moves instead of sleeping. Intervals default to an hour, so
 * nothing runs unless the test asks.
 */
export async function startTestApp(
  options: { role?: Role; env?: Record<string, string>; start?: Date } = {},
) {
  const database = await createTestDatabase({ migrate: false });
  const prefix = uniqueName('q');
  const clock = createManualClock(options.start ?? new Date('2026-11-30T15:00:00Z'));
  const config = loadConfig(
    testEnv(database.url, prefix, {
      PRICE_INTERVAL_MS: '3600000',
      LOGO_INTERVAL_MS: '3600000',
      HIGHLOW_INTERVAL_MS: '3600000',
      ...options.env,
    }),
  );
  const running = await startRole(options.role ?? 'start', config, { clock, logger: silentLogger });
  return {
    ...running,
    config,
    clock,
    prefix,
    database,
    async stop() {
      await running.close();
      await removeRedisPrefix(prefix);
      await database.drop();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;
