import { type BatchResult, ProviderAuthError, ProviderRateLimitedError } from './provider.ts';

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
  let stopped: ProviderRateLimitedError | undefined;
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
        } else if (error instanceof ProviderRateLimitedError) {
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
 * A rate limit on a later chunk keeps what the earlier ones brought and reports every symbol not yet
 * fetched with it, so the caller can retry just those; on the first chunk, and any other fault, it throws.
 */
export async function inBatches<T>(
  symbols: readonly string[],
  size: number,
  fetchBatch: (batch: readonly string[]) => Promise<BatchResult<T>>,
): Promise<BatchResult<T>> {
  const result: BatchResult<T> = { ok: [], failed: [] };
  for (let start = 0; start < symbols.length; start += size) {
    let batch: BatchResult<T>;
    try {
      batch = await fetchBatch(symbols.slice(start, start + size));
    } catch (error) {
      if (error instanceof ProviderRateLimitedError && start > 0) {
        for (const symbol of symbols.slice(start)) result.failed.push({ symbol, error });
        return result;
      }
      throw error;
    }
    result.ok.push(...batch.ok);
    result.failed.push(...batch.failed);
  }
  return result;
}
