import type { Job, JobsOptions } from 'bullmq';
import { QUEUE_NAMES, type QueueName } from '../../jobs/queues.ts';
import type { TestApp } from './app.ts';

/** Bounded polling for a condition a worker brings about; fails with `what` instead of hanging. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until the jobs a worker queues at start (the first price tick, the missing logos and 52-week
 * ranges) have all finished, so a test's own jobs and injected faults meet a quiet queue.
 */
export async function settle(app: TestApp, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    'the start-up jobs to finish',
    async () => {
      for (const name of QUEUE_NAMES) {
        const counts = await app.workers!.queues[name].getJobCounts(
          'active',
          'waiting',
          'prioritized',
          'completed',
          'failed',
        );
        if (counts.active! + counts.waiting! + counts.prioritized! > 0) return false;
        if (counts.completed! + counts.failed! === 0) return false;
      }
      return true;
    },
    timeoutMs,
  );
}

export interface FinishedJob {
  state: 'completed' | 'failed';
  job: Job;
}

/** Queues a job and waits until it has completed or failed for good (retries included). */
export async function runJob(
  app: TestApp,
  queue: QueueName,
  data: object = {},
  opts: JobsOptions = {},
  timeoutMs = 30_000,
): Promise<FinishedJob> {
  const added = await app.workers!.queues[queue].add(queue, data, opts);
  return waitFor(
    `${queue} job ${added.id} to finish`,
    async () => {
      const state = await app.workers!.queues[queue].getJobState(added.id!);
      if (state !== 'completed' && state !== 'failed') return undefined;
      // Read the job after its final state, so its fields (attempts, result) are the final ones.
      const job = await app.workers!.queues[queue].getJob(added.id!);
      return job ? { state, job } : undefined;
    },
    timeoutMs,
  );
}

/** The stored ticks of the given tickers, oldest first. */
export async function storedTicks(
  app: TestApp,
  tickers: readonly string[],
): Promise<{ ticker: string; price: number; time: string }[]> {
  const result = await app.deps.database.pool.query<{ stock_name: string; price: string; time: Date }>(
    'select stock_name, price, time from stock_prices where stock_name = any($1) order by time, stock_name',
    [tickers],
  );
  return result.rows.map((row) => ({
    ticker: row.stock_name,
    price: Number(row.price),
    time: row.time.toISOString(),
  }));
}

export async function graphql<T>(app: TestApp, query: string, variables?: object): Promise<T> {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: { message: string }[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export interface WatchedStock {
  ticker: string;
  companyName: string | null;
  logoUrl: string | null;
  high52Week: number | null;
  low52Week: number | null;
  unknownReason: string | null;
  unknownSince: string | null;
}

export async function watchlist(app: TestApp): Promise<WatchedStock[]> {
  const data = await graphql<{ watchlist: WatchedStock[] }>(
    app,
    '{ watchlist { ticker companyName logoUrl high52Week low52Week unknownReason unknownSince } }',
  );
  return data.watchlist;
}
