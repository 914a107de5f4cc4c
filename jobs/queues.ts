import { type Job, type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.ts';

/** The three job kinds of the classic's loops, each its own queue so a slow logo fetch never delays prices. */
export const QUEUE_NAMES = ['prices', 'logos', 'highlow'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** One scheduler per queue, with a fixed id: upserting the same id is how two starting workers agree. */
export const SCHEDULER_IDS: Record<QueueName, string> = {
  prices: 'prices-every-interval',
  logos: 'logos-every-interval',
  highlow: 'highlow-every-interval',
};

/**
 * Retries with exponential backoff (up to 1 s, 2 s, 4 s, 8 s) ride out a provider or database hiccup;
 * bounded, unlike the classic's recursion. Jitter (each delay drawn from its upper half) keeps workers that
 * failed together from retrying in lockstep against a provider that is just coming back. A rate limit does
 * not count as an attempt (see jobs/provider-faults.ts). Finished jobs are trimmed so Redis does not grow
 * without end.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { count: 500 },
  removeOnFail: { count: 2000 },
};

/**
 * The three scheduled queues, and `history` (jobs/history-processor.ts): the backfill and gap repair, in a
 * queue of their own so that a week of history being filled never stands between a price slot and its job.
 */
export const HISTORY_QUEUE = 'history';

/**
 * Housekeeping of storage (jobs/maintenance-processor.ts): every hour, stock_prices' day partitions are made
 * ahead and dropped behind the raw horizon (RETAIN_TICKS_DAYS). A queue of its own, seen in Bull Board.
 */
export const MAINTENANCE_QUEUE = 'maintenance';
export const MAINTENANCE_SCHEDULER_ID = 'maintenance-hourly';
export const MAINTENANCE_EVERY_MS = 3_600_000;

export type Queues = Record<QueueName, Queue> & { [HISTORY_QUEUE]: Queue; [MAINTENANCE_QUEUE]: Queue };

/**
 * Alert evaluation: its own queue, fed by the price job once its ticks are stored (jobs/alert-processor.ts),
 * so rules never slow a price slot down and a failed evaluation is retried on its own. No scheduler.
 */
export const ALERT_QUEUE = 'alerts';

export function createAlertQueue(connection: Redis, prefix: string): Queue {
  return new Queue(ALERT_QUEUE, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
}

/**
 * Webhook deliveries of alert firings, one job per firing and webhook. Backoff doubles from
 * ALERT_WEBHOOK_BACKOFF_MS over ALERT_WEBHOOK_ATTEMPTS tries; a delivery that used them all stays in the
 * failed set, with its reason, until an admin retries or removes it in Bull Board: the dead letter.
 */
export const DELIVERY_QUEUE = 'alert-deliveries';

export function createDeliveryQueue(connection: Redis, prefix: string, webhooks: Config['webhooks']): Queue {
  return new Queue(DELIVERY_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: webhooks.attempts,
      backoff: { type: 'exponential', delay: webhooks.backoffMs },
      removeOnComplete: { count: 1000 },
      removeOnFail: false,
    },
  });
}

export function createQueues(connection: Redis, prefix: string): Queues {
  const make = (name: string) => new Queue(name, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
  return {
    prices: make('prices'),
    logos: make('logos'),
    highlow: make('highlow'),
    history: make(HISTORY_QUEUE),
    maintenance: make(MAINTENANCE_QUEUE),
  };
}

export function intervalFor(queue: QueueName, schedule: Config['schedule']): number {
  return {
    prices: schedule.priceIntervalMs,
    logos: schedule.logoIntervalMs,
    highlow: schedule.highlowIntervalMs,
  }[queue];
}

/**
 * Creates or updates the three job schedulers and the hourly maintenance one. Idempotent: the ids are
 * fixed, so any number of processes calling this at once leave exactly one scheduler per queue, with the
 * latest interval.
 */
export async function upsertSchedulers(queues: Queues, schedule: Config['schedule']): Promise<void> {
  await Promise.all([
    ...QUEUE_NAMES.map((name) =>
      queues[name].upsertJobScheduler(
        SCHEDULER_IDS[name],
        { every: intervalFor(name, schedule) },
        { name, data: {}, opts: JOB_OPTIONS },
      ),
    ),
    queues.maintenance.upsertJobScheduler(
      MAINTENANCE_SCHEDULER_ID,
      { every: MAINTENANCE_EVERY_MS },
      { name: MAINTENANCE_QUEUE, data: {}, opts: JOB_OPTIONS },
    ),
  ]);
}

/**
 * The slot a scheduler's job stands for: BullMQ names each iteration `repeat:<scheduler id>:<slot in ms>`
 * (job-scheduler.ts `getSchedulerNextJobId`, and the Lua scripts that create the next one). A one-off job
 * (queued by hand, or by a test) has no slot.
 */
export function scheduledSlot(job: Pick<Job, 'id' | 'repeatJobKey'>): Date | undefined {
  if (!job.repeatJobKey || !job.id) return undefined;
  const prefix = `repeat:${job.repeatJobKey}:`;
  if (!job.id.startsWith(prefix)) return undefined;
  const millis = job.id.slice(prefix.length);
  return /^\d{1,15}$/.test(millis) ? new Date(Number(millis)) : undefined;
}

export async function closeQueues(queues: Readonly<Record<string, Queue>>): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
