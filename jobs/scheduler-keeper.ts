import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../src/config.ts';
import { intervalFor, QUEUE_NAMES, type Queues, SCHEDULER_IDS, upsertSchedulers } from './queues.ts';

export interface SchedulerKeeper {
  /**
   * Checks once; resolves true when the schedulers had to be put back. Never rejects: while Redis is away
   * there is nothing to check, and the next check or reconnect will look again.
   */
  check(): Promise<boolean>;
  stop(): void;
}

/** Why a check put the schedulers back, for the log line. */
type Repair = { reason: 'missing'; queues: string[] } | { reason: 'stuck'; slot: number } | undefined;

/**
 * Schedulers live in Redis, so Redis decides whether prices keep coming. Two ways it can stop while every
 * worker stays connected and healthy, each healed here by upserting the schedulers again (idempotent: the
 * ids are fixed, see upsertSchedulers):
 *
 * - Redis came back empty (restarted without persistence, or flushed): the scheduler keys are gone. Checked
 *   whenever `redis` becomes ready again after losing its connection, and every `everyMs` besides, because
 *   a FLUSHALL drops no connection.
 * - The chain of iterations broke: BullMQ creates a scheduler's next job only after a worker has taken the
 *   current one, so a worker killed between those two steps leaves the scheduler pointing at a job that is
 *   no longer waiting, and nothing new is queued until stalled-job recovery (30 to 60 s later). Seen as the
 *   price scheduler's next slot lying over an interval in the past with its job not waiting to run.
 */
export function keepSchedulers(options: {
  queues: Queues;
  schedule: Config['schedule'];
  redis: Redis;
  logger: Logger;
  everyMs: number;
  now?: () => number;
}): SchedulerKeeper {
  const { queues, schedule, redis, logger } = options;
  const now = options.now ?? Date.now;
  let running: Promise<boolean> | undefined;
  let stopped = false;

  async function diagnose(): Promise<Repair> {
    const missing: string[] = [];
    for (const name of QUEUE_NAMES) {
      if (!(await queues[name].getJobScheduler(SCHEDULER_IDS[name]))) missing.push(name);
    }
    if (missing.length > 0) return { reason: 'missing', queues: missing };

    const prices = await queues.prices.getJobScheduler(SCHEDULER_IDS.prices);
    const next = prices?.next;
    if (typeof next !== 'number' || next + intervalFor('prices', schedule) > now()) return undefined;
    const state = await queues.prices.getJobState(`repeat:${SCHEDULER_IDS.prices}:${next}`);
    return ['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state)
      ? undefined
      : { reason: 'stuck', slot: next };
  }

  async function checkOnce(): Promise<boolean> {
    try {
      const repair = await diagnose();
      if (!repair || stopped) return false;
      await upsertSchedulers(queues, schedule);
      if (repair.reason === 'missing') {
        logger.warn(
          { queues: repair.queues },
          'job schedulers were missing from Redis (emptied or restarted without data): upserted them again',
        );
      } else {
        logger.warn(
          { slot: new Date(repair.slot).toISOString() },
          'the price scheduler stopped at a job no worker holds any more: upserted it again',
        );
      }
      return true;
    } catch (error) {
      logger.debug({ err: error }, 'scheduler check did not complete');
      return false;
    }
  }

  const check = () => {
    running ??= checkOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  // 'ready' also fires for the first connection; a check then is harmless (the schedulers were just upserted).
  const onReady = () => {
    if (!stopped) void check();
  };
  redis.on('ready', onReady);
  const timer = setInterval(() => void check(), options.everyMs);
  timer.unref();

  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
      redis.off('ready', onReady);
    },
  };
}
