import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../src/db/errors.ts';

/** First hold once a job's attempts are spent on a database outage; it doubles up to {@link MAX_HOLD_MS}. */
export const FIRST_HOLD_MS = 5000;
export const MAX_HOLD_MS = 60_000;

/**
 * How long to park a job for its `held`-th time (0 first): doubling from 5 s to at most a minute, each delay
 * drawn from its upper half so that the jobs of one outage do not all knock at once when it ends.
 */
export function holdDelay(held: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_HOLD_MS, FIRST_HOLD_MS * 2 ** Math.min(held, 16));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/**
 * Keeps what a job fetched in the job itself, so that a retry writes the same observation instead of
 * fetching a new one. When the job is gone from Redis (Redis was emptied under it) there will be no retry
 * to serve, so the write goes ahead anyway rather than dropping what was fetched.
 */
export async function saveForRetry<T>(job: Job<T>, data: T, logger: Logger): Promise<void> {
  try {
    await job.updateData(data);
  } catch (error) {
    logger.warn(
      { queue: job.queueName, jobId: job.id, err: error },
      'could not keep the fetched data in the job (is it gone from Redis?); writing it now anyway',
    );
  }
}

/**
 * Runs a job's database write. While Postgres is unreachable the job fails like any other, so BullMQ retries
 * it with backoff and Bull Board shows the attempts; but on its last attempt it is not let die, because what
 * it holds was fetched once and exists nowhere else. It is parked instead (moved to delayed without spending
 * an attempt) and tried again after {@link holdDelay}, as often as it takes for the database to come back.
 * Any other failure, and any failure of a job without a lock token, is the caller's to handle.
 */
export async function writeOrHold<R>(
  job: Job,
  token: string | undefined,
  logger: Logger,
  write: () => Promise<R>,
): Promise<R> {
  try {
    return await write();
  } catch (error) {
    if (!token || !isDatabaseUnavailable(error)) throw error;
    if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw error;
    // Every start that ended neither in success nor in a spent attempt is a hold (or a stall): count them.
    const held = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
    const delayMs = holdDelay(held);
    await job.moveToDelayed(Date.now() + delayMs, token);
    logger.warn(
      { queue: job.queueName, jobId: job.id, held: held + 1, delayMs, err: error },
      'database unreachable on the last attempt: holding the fetched data and trying again later',
    );
    throw new DelayedError();
  }
}
