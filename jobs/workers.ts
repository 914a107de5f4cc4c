import { type Processor, Worker } from 'bullmq';
import type { Deps } from '../src/deps.ts';
import { createHighLowProcessor } from './highlow-processor.ts';
import { createLogoProcessor } from './logo-processor.ts';
import { createPriceProcessor } from './price-processor.ts';
import { createQueues, type QueueName, type Queues, upsertSchedulers } from './queues.ts';

export interface RunningWorkers {
  queues: Queues;
  workers: Record<QueueName, Worker>;
  /** Stops taking jobs, waits for the ones in flight, closes connections. */
  close(): Promise<void>;
}

/**
 * The worker role: one BullMQ worker per queue, the schedulers upserted, and a one-off fetch of logos and
 * 52-week ranges that are missing, so a new watchlist does not wait 83 minutes for its first slow tick.
 * The one-off jobs are deduplicated, so two workers starting together queue them once.
 */
export async function startWorkers(deps: Deps): Promise<RunningWorkers> {
  const { config, logger } = deps;
  const connection = deps.createRedis('bullmq-worker');
  const queues = createQueues(deps.createRedis('bullmq-queue'), config.queuePrefix);
  const timeout = { providerTimeoutMs: config.provider.timeoutMs, logger };
  const processors: Record<QueueName, Processor> = {
    prices: createPriceProcessor({ ...deps, ...timeout }),
    logos: createLogoProcessor({ ...deps, ...timeout }),
    highlow: createHighLowProcessor({ ...deps, ...timeout }),
  };

  const makeWorker = (name: QueueName) => {
    const worker = new Worker(name, processors[name], {
      connection,
      prefix: config.queuePrefix,
      concurrency: 1,
    });
    worker.on('failed', (job, error) =>
      logger.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: error }, 'job failed'),
    );
    worker.on('error', (error) => logger.error({ queue: name, err: error }, 'worker error'));
    return worker;
  };
  const workers = {
    prices: makeWorker('prices'),
    logos: makeWorker('logos'),
    highlow: makeWorker('highlow'),
  };

  await deps.watchlist.seed(config.symbols);
  await upsertSchedulers(queues, config.schedule);
  await queueMissing(deps, queues);

  return {
    queues,
    workers,
    close: async () => {
      await Promise.all(Object.values(workers).map((worker) => worker.close()));
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}

async function queueMissing(deps: Deps, queues: Queues): Promise<void> {
  const [profiles, ranges] = await Promise.all([
    deps.watchlist.missingProfiles(),
    deps.watchlist.missingRanges(),
  ]);
  if (profiles.length > 0) {
    await queues.logos.add(
      'logos',
      { onlyMissing: true },
      { deduplication: { id: 'logos-missing-at-start' } },
    );
  }
  if (ranges.length > 0) {
    await queues.highlow.add(
      'highlow',
      { onlyMissing: true },
      { deduplication: { id: 'highlow-missing-at-start' } },
    );
  }
}
