import { QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import type { PriceJobResult } from '../../jobs/price-processor.ts';
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
  options: { role?: Role; env?: Record<string, string>; start?: Date; logger?: Logger } = {},
) {
  const database = await createTestDatabase({ migrate: false });
  const prefix = uniqueName('q');
  // Real time by default (to the second, a few minutes back): a browser under test judges "the last 7 days"
  // by its own clock, so the app's ticks must not lie in its future.
  const clock = createManualClock(options.start ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 600_000));
  const config = loadConfig(
    testEnv(database.url, prefix, {
      PRICE_INTERVAL_MS: '3600000',
      LOGO_INTERVAL_MS: '3600000',
      HIGHLOW_INTERVAL_MS: '3600000',
      ...options.env,
    }),
  );
  const running = await startRole(options.role ?? 'start', config, {
    clock,
    logger: options.logger ?? silentLogger,
  });
  let events: QueueEvents | undefined;
  // The price scheduler's first job runs at start. Wait for it, so a test's own jobs and the events it
  // watches are not interleaved with that one.
  if (running.workers) {
    for (let i = 0; i < 600; i++) {
      const { completed = 0, failed = 0 } = await running.workers.queues.prices.getJobCounts(
        'completed',
        'failed',
      );
      if (completed + failed > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    ...running,
    /** Queues a price job now and waits until a worker has finished it; returns the job's result. */
    async runPriceJob(data: object = {}): Promise<PriceJobResult> {
      if (!running.workers) throw new Error('runPriceJob needs a role with workers');
      if (!events) {
        events = new QueueEvents('prices', { connection: running.deps.createRedis('test-events'), prefix });
        // Reconnects by itself; without a listener BullMQ prints each connection error while Redis is away.
        events.on('error', () => {});
      }
      await events.waitUntilReady();
      const job = await running.workers.queues.prices.add('prices', data);
      return (await job.waitUntilFinished(events, 30_000)) as PriceJobResult;
    },
    config,
    clock,
    prefix,
    database,
    async stop() {
      await events?.close();
      await running.close();
      await removeRedisPrefix(prefix);
      await database.drop();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/** A GraphQL query over real HTTP that must succeed: fails the test on any error, returns `data`. */
export async function graphqlOk<T>(app: { url?: string }, query: string, variables?: object): Promise<T> {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown };
  if (body.errors !== undefined) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}
