import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { decodeImageDataUri, storedLogoPath } from '../domain/image-data-uri.ts';
import { normalizeTicker } from '../domain/symbols.ts';
import { createRedisClient, describeRedisTarget, resolveRedisTarget } from '../redis/redis-target.ts';
import { createProvider } from './create-provider.ts';
import type { BatchResult, FetchOptions, MarketDataProvider } from './provider.ts';
import { createPlannedBudget, requestBudgetKey } from './request-budget.ts';
import { planForConfig } from './request-plan.ts';

/** One capability's outcome in `stockstreamer providers check`. */
interface CheckLine {
  capability: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** How long the check waits for its turns in the shared budget's extra share, in all. */
const CHECK_BUDGET_WAIT_MS = 120_000;

/**
 * Calls the provider once per capability for one ticker and reports what came back and how long it took:
 * the way a user checks a key before starting the pipeline. Every call takes from the shared request
 * budget in Redis, in the share names and logos use, so a check next to a running app never costs it a
 * price, nor the provider's limit a request more than the plan allows.
 */
async function checkProvider(
  provider: MarketDataProvider,
  symbol: string,
  fetchOptions: FetchOptions,
  now: () => number = () => performance.now(),
): Promise<CheckLine[]> {
  const run = async <T>(
    capability: string,
    call: () => Promise<BatchResult<T>>,
    describe: (item: T) => string,
  ): Promise<CheckLine> => {
    const started = now();
    try {
      const result = await call();
      const ms = Math.round(now() - started);
      const item = result.ok[0];
      if (item !== undefined) return { capability, ok: true, detail: describe(item), ms };
      return { capability, ok: false, detail: result.failed[0]?.error.message ?? 'nothing came back', ms };
    } catch (error) {
      const ms = Math.round(now() - started);
      return { capability, ok: false, detail: error instanceof Error ? error.message : String(error), ms };
    }
  };
  return [
    await run(
      'quote',
      () => provider.getQuotes([symbol], fetchOptions),
      (q) => `${q.price} at ${q.time.toISOString()}`,
    ),
    await run(
      'name and logo',
      () => provider.getProfiles([symbol], fetchOptions),
      (p) => `${p.name} · ${shortUrl(p.logoUrl, p.symbol)}`,
    ),
    await run(
      '52-week range',
      () => provider.getFiftyTwoWeekRanges([symbol], fetchOptions),
      (r) => `high ${r.high} · low ${r.low}`,
    ),
  ];
}

/** A logo as `providers check` prints it: a downloaded image as its type and size, not kilobytes of base64. */
function shortUrl(url: string, symbol: string): string {
  if (url.startsWith('data:')) {
    const image = decodeImageDataUri(url);
    if (!image) return `unusable data: URL (${kilobytes(url.length)}; the app shows the monogram)`;
    return `${image.contentType}, ${kilobytes(image.bytes.length)} (downloaded, served at ${storedLogoPath(symbol)})`;
  }
  if (url.startsWith('/')) return `${url} (the app's monogram)`;
  return url;
}

function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function formatCheck(lines: readonly CheckLine[]): string {
  const width = Math.max(...lines.map((l) => l.capability.length));
  return lines
    .map(
      (l) =>
        `  ${l.capability.padEnd(width)}  ${l.ok ? 'ok    ' : 'FAILED'}  ${String(l.ms).padStart(5)} ms  ${l.detail}`,
    )
    .join('\n');
}

/** `stockstreamer providers check [--symbol X]`: prints the report; 0 when every capability worked. */
export async function runProvidersCheck(
  config: Config,
  requested: string | undefined,
  out: { write(text: string): unknown },
): Promise<number> {
  let symbol = config.symbols[0]!;
  if (requested !== undefined) {
    const parsed = normalizeTicker(requested);
    if (!parsed.ok) {
      out.write(`stockstreamer providers check: --symbol ${parsed.error}\n`);
      return 2;
    }
    symbol = parsed.ticker;
  }
  const { provider: settings } = config;
  const provider = createProvider(settings, systemClock);
  const where = settings.baseUrl ? ` at ${settings.baseUrl}` : '';
  const plan = planForConfig(config, provider.priceBatching, config.symbols.length);
  let redis: Redis | undefined;
  let stopRedis = async () => {};
  let budgetLine = 'no request budget';
  if (plan) {
    // The same Redis, prefix and key the app uses: the budget is one for every process.
    const resolved = await resolveRedisTarget(config, pino({ level: 'silent' }));
    stopRedis = resolved.stop;
    redis = createRedisClient(resolved.target, { maxRetriesPerRequest: 1, lazyConnect: true });
    budgetLine = `budget ${settings.budget!.text}, drawn on in Redis at ${describeRedisTarget(resolved.target)} (waiting for room when the app is using it)`;
  }
  const budget =
    plan && redis
      ? createPlannedBudget(redis, requestBudgetKey(config.queuePrefix, provider.name), plan)
      : undefined;
  out.write(
    `provider ${provider.name}${where}, symbol ${symbol}\n` +
      `  timeout ${settings.timeoutMs} ms per request, ${budgetLine}\n\n`,
  );
  let lines: CheckLine[];
  try {
    lines = await checkProvider(provider, symbol, {
      budget,
      lane: 'check',
      maxBudgetWaitMs: CHECK_BUDGET_WAIT_MS,
    });
  } finally {
    redis?.disconnect();
    await stopRedis();
  }
  out.write(`${formatCheck(lines)}\n`);
  const failed = lines.filter((l) => !l.ok).length;
  out.write(
    failed === 0 ? '\nall capabilities answered\n' : `\n${failed} of ${lines.length} capabilities failed\n`,
  );
  return failed === 0 ? 0 : 1;
}
