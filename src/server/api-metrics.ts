import { Counter, Gauge, type Registry } from 'prom-client';
import { onePerScrape } from '../metrics.ts';
import type { HealthReport } from './health.ts';

/** Where the API's point-in-time figures come from; each is read when Prometheus scrapes, not before. */
export interface ApiMetricSources {
  health(): Promise<HealthReport>;
  subscriptions(): {
    subscribers: number;
    cohorts: number;
    opened: Record<string, number>;
    closed: Record<string, number>;
  };
  webSockets(): number;
  /** BullMQ's job counts by state for each queue; these are the queue depths (waiting, delayed, …). */
  jobCounts(): Promise<(readonly [queue: string, counts: Record<string, number>])[]>;
  /** The rollup log's backlog; rejects while PostgreSQL is away (the gauges are then left out). */
  rollupBacklog(): Promise<{ rows: number; oldestBucket?: Date }>;
  /** stock_prices' day partitions (RETAIN_TICKS_DAYS); rejects while PostgreSQL is away. */
  rawPartitions(): Promise<{ partitions: number; oldestDay?: Date }>;
  now(): number;
}

/**
 * The API's gauges, registered on the process's registry (src/metrics.ts) and computed at scrape time by
 * prom-client's `collect`. A source that fails (Redis away) leaves its gauge empty for that scrape rather
 * than failing the whole answer: `stockstreamer_up` says why.
 */
export function registerApiMetrics(registry: Registry, sources: ApiMetricSources): void {
  const registers = [registry];
  new Gauge({
    name: 'stockstreamer_up',
    help: 'Whether Postgres and Redis answer (1) or not (0).',
    labelNames: ['backend'],
    registers,
    async collect() {
      const report = await sources.health();
      this.set({ backend: 'postgres' }, report.postgres ? 1 : 0);
      this.set({ backend: 'redis' }, report.redis ? 1 : 0);
    },
  });
  new Gauge({
    name: 'stockstreamer_subscribers',
    help: 'Open GraphQL subscriptions (SSE streams and graphql-ws subscriptions).',
    registers,
    collect() {
      this.set(sources.subscriptions().subscribers);
    },
  });
  new Gauge({
    name: 'stockstreamer_subscription_cohorts',
    help: 'Distinct subscription operations being executed.',
    registers,
    collect() {
      this.set(sources.subscriptions().cohorts);
    },
  });
  for (const [event, help] of [
    ['opened', 'GraphQL subscriptions opened since start, by transport (sse, graphql-ws).'],
    ['closed', 'GraphQL subscriptions closed since start, by transport (sse, graphql-ws).'],
  ] as const) {
    new Counter({
      name: `stockstreamer_subscriptions_${event}_total`,
      help,
      labelNames: ['transport'],
      registers,
      collect() {
        // The cohorts count since start; a counter is that total, set afresh at each scrape.
        this.reset();
        for (const [transport, total] of Object.entries(sources.subscriptions()[event])) {
          this.inc({ transport }, total);
        }
      },
    });
  }
  new Gauge({
    name: 'stockstreamer_websockets',
    help: 'Open graphql-ws WebSockets.',
    registers,
    collect() {
      this.set(sources.webSockets());
    },
  });
  new Gauge({
    name: 'stockstreamer_jobs',
    help: 'BullMQ jobs by queue and state (waiting, active, delayed, prioritized, completed, failed, …).',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      const counts = await sources.jobCounts().catch(() => []);
      for (const [queue, byState] of counts) {
        for (const [state, value] of Object.entries(byState)) this.set({ queue, state }, value);
      }
    },
  });
  // One read of the log serves both of its gauges in a scrape.
  const backlog = onePerScrape(() => sources.rollupBacklog());
  new Gauge({
    name: 'stockstreamer_rollup_log_rows',
    help: 'Rows in the rollup log that no fold has taken yet (a few in steady state).',
    registers,
    async collect() {
      this.reset();
      const found = await backlog();
      if (found) this.set(found.rows);
    },
  });
  const partitions = onePerScrape(() => sources.rawPartitions());
  new Gauge({
    name: 'stockstreamer_raw_partitions',
    help: 'Day partitions of stock_prices: the retained days plus the days made ahead.',
    registers,
    async collect() {
      this.reset();
      const found = await partitions();
      if (found) this.set(found.partitions);
    },
  });
  new Gauge({
    name: 'stockstreamer_raw_oldest_day_seconds',
    help: 'Start (Unix seconds, UTC midnight) of the oldest day of raw ticks kept; older days are in the rollup only.',
    registers,
    async collect() {
      this.reset();
      const found = await partitions();
      if (found?.oldestDay) this.set(found.oldestDay.getTime() / 1000);
    },
  });
  new Gauge({
    name: 'stockstreamer_rollup_log_oldest_age_seconds',
    help: 'Age of the oldest minute the rollup log names (about a minute when folds keep up).',
    registers,
    async collect() {
      this.reset();
      const found = await backlog();
      if (!found) return;
      const oldest = found.oldestBucket;
      this.set(oldest ? Math.max(0, (sources.now() - oldest.getTime()) / 1000) : 0);
    },
  });
}
