/**
 * One worker process of the P6 bench (scheduler.ts forks two per variant): the real worker role, as
 * deployed, on the bench's private Redis. It reports every price job it takes (its slot and `processedOn`)
 * to the parent over IPC, and stops cleanly when told to. Optionally its provider answers only after
 * `slowMs`, to stand for a market-data API slower than the interval.
 */
import type { Job } from 'bullmq';
import { scheduledSlot } from '../../jobs/queues.ts';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { createProvider } from '../../src/providers/create-provider.ts';
import type { MarketDataProvider } from '../../src/providers/provider.ts';
import { startRole } from '../../src/start.ts';
import { silentLogger, testEnv } from '../helpers/services.ts';

export interface WorkerOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  intervalMs: number;
  symbols: string[];
  /** The provider answers each price request after this long (0: at once). */
  slowMs: number;
  providerTimeoutMs: number;
}

/** One start of a price job: which slot, when BullMQ moved it to active, by which process. */
export interface SlotRun {
  slot: number;
  processedOn: number;
  attempt: number;
  pid: number;
}

export type WorkerMessage =
  | { type: 'ready'; concurrency: number }
  | { type: 'runs'; runs: SlotRun[] }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const send = (message: WorkerMessage) => process.send?.(message);
// The bench is gone (killed, or crashed): nobody will tell this worker to stop, so it stops now.
process.on('disconnect', () => process.exit(1));
const options = JSON.parse(process.env.P6_WORKER ?? '{}') as WorkerOptions;

function slowProvider(inner: MarketDataProvider, slowMs: number): MarketDataProvider {
  if (slowMs <= 0) return inner;
  return {
    ...inner,
    name: inner.name,
    async getQuotes(symbols, fetchOptions) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, slowMs);
        fetchOptions?.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return inner.getQuotes(symbols, fetchOptions);
    },
  };
}

try {
  const config = loadConfig(
    testEnv(options.databaseUrl, options.prefix, {
      REDIS_URL: options.redisUrl,
      SYMBOLS: options.symbols.join(','),
      PRICE_INTERVAL_MS: String(options.intervalMs),
      LOGO_INTERVAL_MS: '3600000',
      HIGHLOW_INTERVAL_MS: '3600000',
      PROVIDER_TIMEOUT_MS: String(options.providerTimeoutMs),
    }),
  );
  const provider = slowProvider(createProvider(config.provider, systemClock), options.slowMs);
  const running = await startRole('worker', config, { provider, logger: silentLogger });
  const prices = running.workers!.workers.prices;
  let pending: SlotRun[] = [];
  prices.on('active', (job: Job) => {
    const slot = scheduledSlot(job);
    if (!slot || !job.processedOn) return;
    pending.push({
      slot: slot.getTime(),
      processedOn: job.processedOn,
      attempt: job.attemptsMade,
      pid: process.pid,
    });
  });
  const flush = () => {
    if (pending.length === 0) return;
    send({ type: 'runs', runs: pending });
    pending = [];
  };
  const timer = setInterval(flush, 1000);
  process.on('message', async (message: { type: string }) => {
    if (message.type !== 'stop') return;
    clearInterval(timer);
    await running.close();
    flush();
    // Exit once the parent has the last runs: a client or timer left open must not keep this process.
    process.send?.({ type: 'stopped' } satisfies WorkerMessage, () => process.exit(0));
  });
  send({ type: 'ready', concurrency: prices.concurrency });
} catch (error) {
  // Drizzle wraps the driver's error: the cause is the useful half ("timeout exceeded when trying to connect").
  const describe = (e: unknown): string =>
    e instanceof Error ? `${e.message}${e.cause ? ` <- ${describe(e.cause)}` : ''}` : String(e);
  send({ type: 'error', message: describe(error) });
  process.exitCode = 1;
}
