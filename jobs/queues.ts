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
export type Queues = Record<QueueName, Queue> & { [HISTORY_QUEUE]: Queue };

export function createQueues(connection: Redis, prefix: string): Queues {
  const make = (name: string) => new Queue(name, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
  return {
    prices: make('prices'),
    logos: make('logos'),
    highlow: make('highlow'),
    history: make(HISTORY_QUEUE),
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
 * Creates or updates the three job schedulers. Idempotent: the ids are fixed, so any number of processes
 * calling this at once leave exactly one scheduler per queue, with the latest interval.
 */
export async function upsertSchedulers(queues: Queues, schedule: Config['schedule']): Promise<void> {
  await Promise.all(
    QUEUE_NAMES.map((name) =>
      queues[name].upsertJobScheduler(
        SCHEDULER_IDS[name],
        { every: intervalFor(name, schedule) },
        { name, data: {}, opts: JOB_OPTIONS },
      ),
    ),
  );
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

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
