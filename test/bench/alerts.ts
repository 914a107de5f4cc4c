/**
 * A1: what price alerts add to a price job. 1,000 tickers, one price job a (virtual) second; first with no
 * rules, then with 1,000 rules (one per ticker: a quarter each of ABOVE, BELOW, MOVE_PERCENT over 5 min
 * and HIGH_52_WEEK, with levels near the price so some fire and re-arm as prices move). The figure is the
 * evaluation job's own run time (BullMQ's processedOn → finishedOn), beside the price job's run time.
 */
import { QueueEvents } from 'bullmq';
import { createManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { startRole } from '../../src/start.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';
import { type Bench, type BenchRow, median, ms, percentile } from './harness.ts';

const SYMBOLS = Array.from({ length: 1000 }, (_, i) => `S${String(i).padStart(4, '0')}`);
const JOBS = 30;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure() {
  const database = await createTestDatabase();
  const prefix = uniqueName('alerts');
  const clock = createManualClock(new Date(Date.UTC(2026, 10, 2, 15)));
  const config = loadConfig(
    testEnv(database.url, prefix, {
      SYMBOLS: SYMBOLS.join(','),
      PRICE_INTERVAL_MS: '3600000',
      LOGO_INTERVAL_MS: '3600000',
      HIGHLOW_INTERVAL_MS: '3600000',
    }),
  );
  const running = await startRole('worker', config, { clock, logger: silentLogger });
  const workers = running.workers!;
  const events = new QueueEvents('prices', { connection: running.deps.createRedis('bench-events'), prefix });
  const queues = [...Object.values(workers.queues), workers.alertQueue];
  const idle = async () => {
    for (let i = 0; i < 1200; i++) {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts('active', 'waiting', 'prioritized')));
      if (counts.every((c) => (c.active ?? 0) + (c.waiting ?? 0) + (c.prioritized ?? 0) === 0)) return;
      await sleep(50);
    }
  };
  /** Runs JOBS price jobs, each after the last one's evaluation finished; run times of both, in ms. */
  const round = async () => {
    const price: number[] = [];
    const evaluation: number[] = [];
    let fired = 0;
    for (let i = 0; i < JOBS; i++) {
      clock.advance(10_000);
      const job = await workers.queues.prices.add('prices', {});
      await job.waitUntilFinished(events, 60_000);
      await idle();
      const done = await workers.queues.prices.getJob(job.id!);
      price.push(done!.finishedOn! - done!.processedOn!);
      const [alert] = await workers.alertQueue.getCompleted(0, 0);
      evaluation.push(alert!.finishedOn! - alert!.processedOn!);
      fired += (alert!.returnvalue as { fired: number }).fired;
    }
    return { price, evaluation, fired };
  };
  try {
    await events.waitUntilReady();
    await idle();
    // History for the 5-minute moves: the warm-up round stores half an hour of ticks.
    await round();
    const without = await round();
    const pool = running.deps.database.pool;
    await pool.query(`
      insert into alert_rules (ticker, kind, threshold, window_s, cooldown_s)
      select p.stock_name,
             (array['above', 'below', 'move', 'high52'])[1 + i % 4],
             case i % 4 when 0 then p.price * 1.001 when 1 then p.price * 0.999 when 2 then 0.1 end,
             case i % 4 when 2 then 300 end,
             0
      from (select stock_name, price, row_number() over (order by stock_name) as i
            from (select distinct on (stock_name) stock_name, price from stock_prices
                  order by stock_name, time desc) as latest) as p`);
    const rules = Number((await pool.query('select count(*) as n from alert_rules')).rows[0].n);
    if (rules !== SYMBOLS.length) throw new Error(`made ${rules} rules, wanted ${SYMBOLS.length}`);
    const withRules = await round();
    return { without, withRules, rules };
  } finally {
    await events.close();
    await running.close();
    await removeRedisPrefix(prefix);
    await database.drop();
  }
}

export const alertsBench: Bench = {
  id: 'A1',
  title: 'alert evaluation per price job, 1,000 rules on 1,000 tickers',
  async run(): Promise<BenchRow[]> {
    const { without, withRules, rules } = await measure();
    const evaluation = median(withRules.evaluation);
    const priceJob = median(without.price);
    return [
      {
        id: 'A1',
        measure: `alert evaluation per price job, ${rules.toLocaleString('en')} rules on 1,000 tickers (its own queue)`,
        figure: `p50 ${ms(evaluation)}, p95 ${ms(percentile(withRules.evaluation, 95))}; ${withRules.fired} firings in ${JOBS} jobs; with no rules p50 ${ms(median(without.evaluation))}`,
        baseline: `the price job without rules p50 ${ms(priceJob)}; with rules p50 ${ms(median(withRules.price))}`,
        ratio: priceJob / evaluation,
        target: 'evaluation ≤ 50 % of the price job',
        met: evaluation <= priceJob / 2,
      },
      {
        id: 'A1',
        measure: 'the price job itself with 1,000 rules (evaluation is queued, not awaited)',
        figure: `p50 ${ms(median(withRules.price))}, p95 ${ms(percentile(withRules.price, 95))}`,
        baseline: `without rules p50 ${ms(priceJob)}, p95 ${ms(percentile(without.price, 95))}`,
        ratio: priceJob / median(withRules.price),
        target: '≤ 1.1× the job without rules',
        met: median(withRules.price) <= priceJob * 1.1,
      },
    ];
  },
};
