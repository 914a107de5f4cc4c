import type { Job, Worker } from 'bullmq';

/** Entries older than this are forgotten: no job here runs that long, and a parked job leaves no event. */
const FORGET_AFTER_MS = 10 * 60_000;

export interface InFlightJobs {
  /** How many jobs this process's workers are running now (as far as their events tell). */
  readonly size: number;
  /**
   * Puts every job still running here back in its queue's wait list, so another worker (or this one's
   * successor) runs it at once instead of after stalled-job recovery. Each job keeps its data, so a price
   * job writes the quotes it already fetched. A job that finished meanwhile is refused by its lock and left
   * alone. Resolves how many went back.
   */
  handBack(): Promise<number>;
}

/**
 * Follows the jobs the given workers take and finish, through their public events, each with the lock
 * token it was taken with (which is what lets `handBack` move it without waiting for the lock to expire).
 */
export function trackInFlight(workers: readonly Worker[]): InFlightJobs {
  const running = new Map<string, Job>();
  const key = (job: Job) => `${job.queueName}\u0000${job.id}`;
  for (const worker of workers) {
    worker.on('active', (job: Job) => {
      const cutoff = Date.now() - FORGET_AFTER_MS;
      for (const [k, other] of running) if ((other.processedOn ?? 0) < cutoff) running.delete(k);
      running.set(key(job), job);
    });
    const finished = (job: Job | undefined) => {
      if (job) running.delete(key(job));
    };
    worker.on('completed', finished);
    worker.on('failed', finished);
  }
  return {
    get size() {
      return running.size;
    },
    async handBack() {
      const jobs = [...running.values()];
      running.clear();
      const results = await Promise.allSettled(
        jobs.map(async (job) => {
          if (!job.token) return false;
          const result = await job.moveToWait(job.token);
          return result >= 0;
        }),
      );
      return results.filter((r) => r.status === 'fulfilled' && r.value).length;
    },
  };
}
