import {
  type BatchResult,
  CircuitOpenError,
  ProviderAuthError,
  ProviderConfigError,
  ProviderError,
  ProviderRateLimitedError,
} from './provider.ts';

/**
 * One request per symbol with at most `concurrency` in flight (the classic started a thread per stock).
 * A per-symbol fault is reported, not thrown, so one bad ticker never costs the others. Two faults end the
 * fan-out early: a rate limit (upstream or budget) stops new requests and reports every symbol not yet
 * fetched with it, so the caller can retry just those after the window; a rejected key is thrown, since it
 * fails every symbol alike. Results keep the input order.
 */
export async function fanOut<T>(
  symbols: readonly string[],
  concurrency: number,
  signal: AbortSignal | undefined,
  fetchOne: (symbol: string) => Promise<T>,
): Promise<BatchResult<T>> {
  signal?.throwIfAborted();
  const results: ({ ok: T } | { error: Error } | undefined)[] = new Array(symbols.length);
  let next = 0;
  let stopped: ProviderRateLimitedError | CircuitOpenError | undefined;
  let fatal: unknown;

  const worker = async () => {
    while (next < symbols.length && !stopped && fatal === undefined) {
      const index = next++;
      try {
        results[index] = { ok: await fetchOne(symbols[index]!) };
      } catch (error) {
        if (signal?.aborted) {
          fatal ??= signal.reason;
        } else if (error instanceof ProviderAuthError) {
          fatal ??= error;
        } else if (error instanceof ProviderRateLimitedError || error instanceof CircuitOpenError) {
          stopped ??= error;
          results[index] = { error };
        } else {
          results[index] = { error: error instanceof Error ? error : new Error(String(error)) };
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, symbols.length)) }, worker));
  if (fatal !== undefined) throw fatal;

  const batch: BatchResult<T> = { ok: [], failed: [] };
  symbols.forEach((symbol, index) => {
    const result = results[index];
    if (result === undefined) batch.failed.push({ symbol, error: stopped! });
    else if ('ok' in result) batch.ok.push(result.ok);
    else batch.failed.push({ symbol, error: result.error });
  });
  return batch;
}

/**
 * Runs `fetchBatch` over the symbols in chunks of `size`, one chunk at a time, and joins what each reports.
 * One bad ticker or one slow answer must not cost the others: a chunk whose request fails (a 5xx, a
 * timeout, an unusable answer) is asked again in two halves, and so on down to single tickers, so only
 * the ticker at fault is reported failed. Each piece is a request like any other, through the budget and
 * the circuit breaker: when they say no, the pieces not yet asked are reported with that error. A rate
 * limit or refusal before anything came back is thrown, as are a refused key and a wrong base URL.
 */
export async function inBatches<T>(
  symbols: readonly string[],
  size: number,
  fetchBatch: (batch: readonly string[]) => Promise<BatchResult<T>>,
): Promise<BatchResult<T>> {
  const result: BatchResult<T> = { ok: [], failed: [] };
  let stopped: Error | undefined;
  const run = async (batch: readonly string[]): Promise<void> => {
    if (stopped) {
      for (const symbol of batch) result.failed.push({ symbol, error: stopped });
      return;
    }
    try {
      const answer = await fetchBatch(batch);
      result.ok.push(...answer.ok);
      result.failed.push(...answer.failed);
    } catch (error) {
      if (error instanceof ProviderRateLimitedError || error instanceof CircuitOpenError) {
        if (result.ok.length === 0 && result.failed.length === 0) throw error;
        stopped = error;
        for (const symbol of batch) result.failed.push({ symbol, error });
        return;
      }
      if (
        !(error instanceof ProviderError) ||
        error instanceof ProviderAuthError ||
        error instanceof ProviderConfigError
      ) {
        throw error;
      }
      if (batch.length === 1) {
        result.failed.push({ symbol: batch[0]!, error });
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await run(batch.slice(0, half));
      await run(batch.slice(half));
    }
  };
  for (let start = 0; start < symbols.length; start += size) await run(symbols.slice(start, start + size));
  return result;
}
