import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../src/config.ts';
import {
  intervalFor,
  MAINTENANCE_SCHEDULER_ID,
  QUEUE_NAMES,
  type Queues,
  SCHEDULER_IDS,
  upsertSchedulers,
} from './queues.ts';

export interface SchedulerKeeper {
  /**
   * Checks once; resolves true when the schedulers had to be put back. Never rejects: while Redis is away
   * there is nothing to check, and the next check or reconnect will look again. A broken chain is repaired
   * on its second sighting; `lookForStuck: false` checks only that the schedulers exist.
   */
  check(lookForStuck?: boolean): Promise<boolean>;
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
 *   price scheduler's next slot lying over an interval in the past with its job not waiting to run, on two
 *   checks in a row.
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
  // A worker takes a job a moment before it queues the next one; a check landing in that moment sees the
  // same picture as a broken chain. A broken chain stays broken, so it is repaired on the second sighting.
  let suspect: number | undefined;

  async function diagnose(lookForStuck: boolean): Promise<Repair> {
    const missing: string[] = [];
    let next: number | undefined;
    for (const name of QUEUE_NAMES) {
      const scheduler = await queues[name].getJobScheduler(SCHEDULER_IDS[name]);
      if (!scheduler) missing.push(name);
      else if (name === 'prices') next = scheduler.next;
    }
    // The hourly maintenance is lost with the rest when Redis comes back empty, and put back with them.
    if (!(await queues.maintenance.getJobScheduler(MAINTENANCE_SCHEDULER_ID))) missing.push('maintenance');
    if (missing.length > 0) return { reason: 'missing', queues: missing };

    if (!lookForStuck) return undefined;
    let stuck = false;
    if (typeof next === 'number' && next + intervalFor('prices', schedule) < now()) {
      const state = await queues.prices.getJobState(`repeat:${SCHEDULER_IDS.prices}:${next}`);
      stuck = !['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state);
    }
    if (!stuck || typeof next !== 'number') {
      suspect = undefined;
      return undefined;
    }
    if (suspect !== next) {
      suspect = next;
      return undefined;
    }
    suspect = undefined;
    return { reason: 'stuck', slot: next };
  }

  async function checkOnce(lookForStuck: boolean): Promise<boolean> {
    try {
      const repair = await diagnose(lookForStuck);
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

  const check = (lookForStuck = true) => {
    running ??= checkOnce(lookForStuck).finally(() => {
      running = undefined;
    });
    return running;
  };

  // Right after a reconnect the workers are busy catching up, so only the schedulers' presence is checked.
  const onReady = () => {
    if (!stopped) void check(false);
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
