import { type Job, type Processor, type Queue, Worker } from 'bullmq';
import type { Config } from '../src/config.ts';
import type { AlertFiring } from '../src/db/alert-repository.ts';
import type { Deps } from '../src/deps.ts';
import { describeFiring } from '../src/domain/alert-rule.ts';
import type { WebhookFiring } from '../src/domain/webhook-payload.ts';
import { createHistoryProgress } from '../src/history-progress.ts';
import { circuitBreakerKey, createRedisCircuitBreaker } from '../src/providers/circuit-breaker.ts';
import { recordPlan } from '../src/providers/provider-status.ts';
import { createPlannedBudget, requestBudgetKey } from '../src/providers/request-budget.ts';
import {
  planForConfig,
  plannedSchedule,
  type RequestPlan,
  tickersForSlot,
} from '../src/providers/request-plan.ts';
import { startTradeStream } from '../src/providers/trade-stream.ts';
import { verifyProvider } from '../src/providers/verify.ts';
import { isRedisConnectionError } from '../src/redis/connection-errors.ts';
import { createTickPublisher, historyFilledChannel } from '../src/tick-channel.ts';
import { createWebhookPoster } from '../src/webhooks/post-webhook.ts';
import { createAlertProcessor } from './alert-processor.ts';
import {
  createDeliveryProcessor,
  type DeliveryJobData,
  deliveryJobId,
  webhookId,
} from './delivery-processor.ts';
import { isFaultLogged } from './freshness-log.ts';
import { createHighLowProcessor } from './highlow-processor.ts';
import {
  createHistoryProcessor,
  historyPieceOfJob,
  PLAN_JOB,
  queueHistoryPlan,
  REPAIR_EVERY_MS,
  REPAIR_SCHEDULER_ID,
  REPAIR_WINDOW_DAYS,
} from './history-processor.ts';
import { createLogoProcessor } from './logo-processor.ts';
import { createMaintenanceProcessor } from './maintenance-processor.ts';
import { createPriceProcessor } from './price-processor.ts';
import {
  ALERT_QUEUE,
  closeQueues,
  createAlertQueue,
  createDeliveryQueue,
  createQueues,
  DELIVERY_QUEUE,
  HISTORY_QUEUE,
  MAINTENANCE_QUEUE,
  type QueueName,
  type Queues,
  upsertSchedulers,
} from './queues.ts';

export interface RunningWorkers {
  queues: Queues;
  workers: Record<QueueName, Worker> & { [HISTORY_QUEUE]: Worker; [MAINTENANCE_QUEUE]: Worker };
  /** Alert evaluation: fed by the price job, no scheduler of its own. */
  alertQueue: Queue;
  /** Webhook deliveries of firings (ALERT_WEBHOOKS); the failed set is the dead letter. */
  deliveryQueue: Queue;
  alertWorkers: Worker[];
  /** What the request budget buys (none without a budget), and the schedule it set. */
  plan: RequestPlan | undefined;
  schedule: Config['schedule'];
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
  await deps.watchlist.seed(config.symbols);
  const tickers = await deps.watchlist.enabledTickers();
  // The plan is made for the watchlist at start; a longer list later only makes each ticker's turn rarer.
  const plan = planForConfig(config, deps.provider.priceBatching, tickers.length);
  const schedule = plannedSchedule(config.schedule, plan, tickers.length);
  // One budget per provider and deployment, in Redis: every worker process draws from the same one.
  const budget = plan
    ? createPlannedBudget(deps.redis, requestBudgetKey(config.queuePrefix, deps.provider.name), plan)
    : undefined;
  if (plan) logger.info({ plan }, plan.summary);
  await recordPlan(deps.redis, config.queuePrefix, plan);
  // A refused key or a wrong base URL stops start-up here, in one line, before any scheduler runs.
  if (deps.provider.name !== 'simulated') {
    const checked = await verifyProvider(
      deps.provider,
      plan ? tickersForSlot(plan, tickers, new Date(0)) : tickers.slice(0, 1),
      { budget, lane: 'extra', maxBudgetWaitMs: 30_000, signal: AbortSignal.timeout(60_000) },
    );
    if (!checked.ok) logger.warn({ detail: checked.detail }, 'provider could not be checked at start');
  }
  // Prices from Finnhub's trade stream: one worker holds the connection, all read its trades from Redis.
  const stream = config.provider.streamUrl
    ? startTradeStream({
        redis: deps.redis,
        prefix: config.queuePrefix,
        url: config.provider.streamUrl,
        apiKey: config.provider.apiKey ?? '',
        symbols: () => deps.watchlist.enabledTickers(),
        logger,
      })
    : undefined;
  const connection = deps.createRedis('bullmq-worker');
  const queues = createQueues(deps.createRedis('bullmq-queue'), config.queuePrefix);
  // A provider's limit is the provider's, not one queue's: a 429 seen by the price job pauses the logo and
  // 52-week queues too. The pause is a key per queue in Redis, so every worker on every host honours it.
  const rateLimit = async (ms: number) => {
    await Promise.all(Object.values(queues).map((queue) => queue.rateLimit(ms)));
  };
  const breaker = createRedisCircuitBreaker(
    deps.redis,
    circuitBreakerKey(config.queuePrefix, deps.provider.name),
  );
  const alertQueue = createAlertQueue(deps.createRedis('bullmq-alert-queue'), config.queuePrefix);
  const queueAlerts = async (ticks: readonly { ticker: string; time: Date; price: number }[], asOf: Date) => {
    await alertQueue.add(ALERT_QUEUE, {
      ticks: ticks.map((t) => ({ ticker: t.ticker, price: t.price, time: t.time.toISOString() })),
      asOf: asOf.toISOString(),
    });
  };
  const deliveryQueue = createDeliveryQueue(
    deps.createRedis('bullmq-delivery-queue'),
    config.queuePrefix,
    config.webhooks,
  );
  // Published to the page, and one delivery per webhook, deduplicated by id (announcing is at least once).
  const announce = async (firings: AlertFiring[]) => {
    await deps.publishAlerts(firings);
    const deliveries = firings.flatMap((firing) =>
      config.webhooks.targets.map((target) => ({
        name: DELIVERY_QUEUE,
        data: { hook: webhookId(target.url), firing: presentForWebhook(firing) } satisfies DeliveryJobData,
        opts: { jobId: deliveryJobId(firing.id, target.url) },
      })),
    );
    if (deliveries.length > 0) await deliveryQueue.addBulk(deliveries);
  };
  const jobDeps = {
    ...deps,
    budget,
    breaker,
    plan,
    followsCalendar: config.market.followsCalendar,
    rateLimit,
    queueAlerts,
  };
  const progress = createHistoryProgress(deps.redis, config.queuePrefix);
  type WorkerName =
    | QueueName
    | typeof HISTORY_QUEUE
    | typeof MAINTENANCE_QUEUE
    | typeof ALERT_QUEUE
    | typeof DELIVERY_QUEUE;
  const processors: Record<WorkerName, Processor> = {
    [ALERT_QUEUE]: createAlertProcessor({ alerts: deps.alerts, logger, announce }),
    [DELIVERY_QUEUE]: createDeliveryProcessor({
      webhooks: config.webhooks,
      post: createWebhookPoster(config.webhooks),
      now: () => deps.clock.now(),
    }),
    [MAINTENANCE_QUEUE]: createMaintenanceProcessor({
      partitions: deps.partitions,
      retainDays: config.history.retainTicksDays,
      now: () => deps.clock.now(),
      logger,
    }),
    prices: createPriceProcessor(jobDeps),
    logos: createLogoProcessor(jobDeps),
    highlow: createHighLowProcessor(jobDeps),
    history: createHistoryProcessor({
      ...jobDeps,
      progress,
      queue: queues.history,
      backfillDays: config.history.backfillDays,
      stepMs: schedule.priceIntervalMs,
      announceFilled: createTickPublisher(
        deps.redis,
        config.queuePrefix,
        historyFilledChannel(config.queuePrefix),
      ),
    }),
  };
  const concurrency = {
    prices: priceWorkerConcurrency(schedule.priceIntervalMs, config.provider.timeoutMs),
    logos: 1,
    highlow: 1,
    // Two fills at once: one computes or fetches while the other's rows stream into Postgres.
    history: 2,
    [MAINTENANCE_QUEUE]: 1,
    [ALERT_QUEUE]: 1,
    // Deliveries wait on receivers: a few at once, so one slow receiver does not hold the others.
    [DELIVERY_QUEUE]: 4,
  };

  const makeWorker = (name: WorkerName) => {
    const worker = new Worker(name, processors[name], {
      connection,
      prefix: config.queuePrefix,
      concurrency: concurrency[name],
      // BullMQ honours a manual rate limit (queue.rateLimit + Worker.RateLimitError) only on workers that
      // have a limiter. The provider's real limit is the request budget; this one is set far above any
      // rate these queues see, so it never bites by itself.
      limiter: { max: 1000, duration: 1000 },
      // A job whose worker died is "stalled" and retried; BullMQ's default fails it for good on the second
      // stall, which would drop the quotes a price job already fetched when a worker crash-loops.
      maxStalledCount: 5,
    });
    // processedOn/finishedOn are BullMQ's own stamps of this run, so a retried job counts each attempt.
    const observe = (job: Job | undefined, outcome: 'completed' | 'failed') => {
      if (job?.processedOn && job.finishedOn) {
        deps.metrics.jobSeconds.observe({ queue: name, outcome }, (job.finishedOn - job.processedOn) / 1000);
      }
    };
    worker.on('completed', (job) => observe(job, 'completed'));
    worker.on('failed', (job, error) => {
      observe(job, 'failed');
      // A fill that failed for good is struck off the progress, or "filling history" would never end.
      const piece = job && historyPieceOfJob(job);
      if (piece && job.attemptsMade >= (job.opts.attempts ?? 1)) void progress.finish(piece).catch(() => {});
      const fields = { queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: error };
      // A provider fault the freshness log told when it began (jobs/freshness-log.ts) is not told again
      // on every job it fails.
      if (isFaultLogged(error)) logger.debug(fields, 'job failed');
      else logger.warn(fields, 'job failed');
    });
    // While Redis is away this fires several times a second; the outage itself is logged once (deps.ts).
    worker.on('error', (error) =>
      isRedisConnectionError(error)
        ? logger.debug({ queue: name, err: error }, 'worker: redis connection error')
        : logger.error({ queue: name, err: error }, 'worker error'),
    );
    return worker;
  };
  const workers = {
    prices: makeWorker('prices'),
    logos: makeWorker('logos'),
    highlow: makeWorker('highlow'),
    history: makeWorker(HISTORY_QUEUE),
    maintenance: makeWorker(MAINTENANCE_QUEUE),
  };
  const alertWorkers = [makeWorker(ALERT_QUEUE), makeWorker(DELIVERY_QUEUE)];

  await upsertSchedulers(queues, schedule);
  await queueMissingRefresh(deps, queues, 'at-start');
  if (config.history.backfillDays > 0) {
    // The backfill: at start, the whole window; then every ten minutes the last day (the gap repair).
    await queueHistoryPlan(queues.history, {}, 'at-start');
    await queues.history.upsertJobScheduler(
      REPAIR_SCHEDULER_ID,
      { every: REPAIR_EVERY_MS },
      { name: PLAN_JOB, data: { days: REPAIR_WINDOW_DAYS } },
    );
  } else {
    await queues.history.removeJobScheduler(REPAIR_SCHEDULER_ID);
  }

  return {
    queues,
    workers,
    alertQueue,
    deliveryQueue,
    alertWorkers,
    plan,
    schedule,
    close: async () => {
      await stream?.close();
      await Promise.all([...Object.values(workers), ...alertWorkers].map((worker) => worker.close()));
      await closeQueues({ ...queues, alertQueue, deliveryQueue });
    },
  };
}

/** Upper bound of {@link priceWorkerConcurrency}: past it a provider that hangs gets no more requests. */
export const MAX_PRICE_CONCURRENCY = 16;

/**
 * How many price jobs one worker runs at once. BullMQ queues a scheduler's next job only when a worker
 * takes the current one, and a job taken more than one interval after its slot makes the scheduler jump
 * to the next slot still ahead (`getJobSchedulerEveryNextMillis` in bullmq's Lua): the slots between are
 * never run. At concurrency 1 a fetch slower than the interval holds the next job until it ends, so every
 * slot starts late and some are lost (measured: fetches of 1.5 s every 1 s ran 27 of 40 slots, each about
 * 1 s late; at 2 or more, all 40 on time). So a worker keeps room for as many fetches as can overlap while
 * one runs up to the provider's timeout, plus the next slot's. The jobs are independent (each fetches
 * as of its own slot and writes idempotently), so overlapping them is safe; a slot is still run once,
 * because each slot is one job id. Logo and 52-week jobs run every 83 minutes and keep concurrency 1.
 */
export function priceWorkerConcurrency(priceIntervalMs: number, providerTimeoutMs: number): number {
  return Math.min(MAX_PRICE_CONCURRENCY, Math.max(2, Math.ceil(providerTimeoutMs / priceIntervalMs) + 1));
}

/**
 * Queues one-off "only what is missing" logo and 52-week jobs when any watched ticker lacks them. At start
 * they are deduplicated (`dedupe`), so workers starting together queue them once; after a watchlist edit
 * they are not, so a job already running for older tickers cannot swallow the new ticker's fetch.
 */
export async function queueMissingRefresh(deps: Pick<Deps, 'watchlist'>, queues: Queues, dedupe?: string) {
  const [profiles, ranges] = await Promise.all([
    deps.watchlist.missingProfiles(),
    deps.watchlist.missingRanges(),
  ]);
  const options = (kind: string) => (dedupe ? { deduplication: { id: `${kind}-missing-${dedupe}` } } : {});
  if (profiles.length > 0) await queues.logos.add('logos', { onlyMissing: true }, options('logos'));
  if (ranges.length > 0) await queues.highlow.add('highlow', { onlyMissing: true }, options('highlow'));
}

function presentForWebhook(firing: AlertFiring): WebhookFiring {
  return {
    id: firing.id,
    ruleId: firing.ruleId,
    ticker: firing.ticker,
    kind: firing.kind,
    threshold: firing.threshold,
    windowMinutes: firing.windowS === null ? null : firing.windowS / 60,
    price: firing.price,
    time: firing.time.toISOString(),
    message: describeFiring(firing),
  };
}
