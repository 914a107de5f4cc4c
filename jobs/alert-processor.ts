import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { AlertFiring, AlertRepository } from '../src/db/alert-repository.ts';
import { parseTicks } from '../src/domain/tick.ts';

/** What the price job hands the alert queue: the (ticker, time) keys of the ticks it stored. */
export interface AlertJobData {
  ticks: { ticker: string; price: number; time: string }[];
  /** The price job's slot (or its run time): when stale-data rules are judged. */
  asOf?: string;
}

export interface AlertJobResult {
  judged: number;
  fired: number;
  announced: number;
}

export interface AlertProcessorDeps {
  alerts: AlertRepository;
  logger: Logger;
  /** Tells the world: the `alerts` subscription (Redis pub/sub) and the webhook queue. */
  announce(firings: AlertFiring[]): Promise<void>;
}

/**
 * Evaluation runs here, never on the API and never inside the price job: a price job only queues one of
 * these after its ticks are stored. Firing is exactly once per crossing (the database decides, see
 * AlertRepository.evaluate); announcing is at least once: a firing stays unannounced until `announce`
 * returned, so a run that died between the two is caught up by its retry or by the next job.
 */
export function createAlertProcessor(deps: AlertProcessorDeps) {
  return async (job: Job<AlertJobData>): Promise<AlertJobResult> => {
    const ticks = parseTicks(job.data.ticks);
    const asOf = job.data.asOf === undefined ? undefined : new Date(job.data.asOf);
    const { judged, fired } = await deps.alerts.evaluate(
      ticks,
      asOf && !Number.isNaN(asOf.getTime()) ? asOf : undefined,
    );
    for (const firing of fired) deps.logger.info({ firing }, 'alert fired');
    const announced = await deps.alerts.announcePending((firings) => deps.announce(firings));
    return { judged, fired: fired.length, announced };
  };
}
