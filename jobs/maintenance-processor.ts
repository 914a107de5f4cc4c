import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { PartitionReport, TickPartitions } from '../src/db/tick-partitions.ts';

/**
 * The hourly maintenance job: makes stock_prices' day partitions ahead of time and drops the days behind
 * the raw horizon (src/db/tick-partitions.ts). Hourly, although days turn daily: a run missed (every worker
 * down at midnight) or failed is made good within the hour, and a run with nothing to do costs a few
 * catalog reads. Stateless like every processor; safe to retry.
 */
export function createMaintenanceProcessor(deps: {
  partitions: Pick<TickPartitions, 'maintain'>;
  retainDays: number | 'forever';
  now: () => Date;
  logger: Logger;
}) {
  return async (_job: Job): Promise<PartitionReport> => {
    const report = await deps.partitions.maintain({ now: deps.now(), retainDays: deps.retainDays });
    if (report.dropped.length > 0) {
      deps.logger.info(
        { dropped: report.dropped, horizon: report.horizon?.toISOString() },
        'raw ticks past RETAIN_TICKS_DAYS dropped; the minute rollup keeps those days',
      );
    }
    return report;
  };
}
