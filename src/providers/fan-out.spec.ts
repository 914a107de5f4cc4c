import { describe, expect, it } from 'vitest';
import { fanOut, inBatches } from './fan-out.ts';
import {
  type BatchResult,
  CircuitOpenError,
  ProviderAuthError,
  ProviderRateLimitedError,
  ProviderUnavailableError,
} from './provider.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('fanOut', () => {
  it('keeps input order and never has more than `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const result = await fanOut(['A', 'B', 'C', 'D', 'E'], 2, undefined, async (symbol) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await tick();
      inFlight -= 1;
      return symbol.toLowerCase();
    });
    expect(result).toEqual({ ok: ['a', 'b', 'c', 'd', 'e'], failed: [] });
    expect(most).toBe(2);
  });

  it('reports one symbol’s fault and keeps the others', async () => {
    const fault = new ProviderUnavailableError('p', '/quote answered HTTP 500');
    const result = await fanOut(['A', 'B', 'C'], 1, undefined, async (symbol) => {
      if (symbol === 'B') throw fault;
      return symbol;
    });
    expect(result).toEqual({ ok: ['A', 'C'], failed: [{ symbol: 'B', error: fault }] });
  });

  it('stops sending at a rate limit and reports every symbol not fetched with it', async () => {
    const limit = new ProviderRateLimitedError('p', 1000);
    const asked: string[] = [];
    const result = await fanOut(['A', 'B', 'C', 'D'], 1, undefined, async (symbol) => {
      asked.push(symbol);
      if (symbol === 'B') throw limit;
      return symbol;
    });
    expect(asked).toEqual(['A', 'B']);
    expect(result.ok).toEqual(['A']);
    expect(result.failed).toEqual([
      { symbol: 'B', error: limit },
      { symbol: 'C', error: limit },
      { symbol: 'D', error: limit },
    ]);
  });

  it('throws a refused key: it fails every symbol alike', async () => {
    const refused = new ProviderAuthError('p', '/quote refused the request (HTTP 401)');
    await expect(
      fanOut(['A', 'B'], 2, undefined, async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
  });

  it('throws when the caller cancels', async () => {
    await expect(fanOut(['A'], 1, AbortSignal.abort(), async (s) => s)).rejects.toThrow();
  });
});

describe('inBatches', () => {
  /** A batch endpoint whose whole request fails whenever it includes a ticker in `bad`. */
  const endpoint = (bad: readonly string[], asked: string[][], limitAfter = Number.POSITIVE_INFINITY) => {
    return async (batch: readonly string[]): Promise<BatchResult<string>> => {
      asked.push([...batch]);
      if (asked.length > limitAfter)
        throw new ProviderRateLimitedError('p', 1000, 'no room', { source: 'budget' });
      if (batch.some((s) => bad.includes(s)))
        throw new ProviderUnavailableError('p', '/quote answered HTTP 502');
      return { ok: batch.map((s) => s.toLowerCase()), failed: [] };
    };
  };

  it('asks a failed batch again in halves, so only the ticker at fault fails', async () => {
    const asked: string[][] = [];
    const result = await inBatches(['A', 'B', 'C', 'D', 'E', 'F'], 6, endpoint(['E'], asked));
    expect(result.ok.sort()).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(result.failed.map((f) => f.symbol)).toEqual(['E']);
    expect(asked).toEqual([
      ['A', 'B', 'C', 'D', 'E', 'F'],
      ['A', 'B', 'C'],
      ['D', 'E', 'F'],
      ['D', 'E'],
      ['D'],
      ['E'],
      ['F'],
    ]);
  });

  it('stops splitting when the budget says no, reporting the rest with that', async () => {
    const asked: string[][] = [];
    const result = await inBatches(['A', 'B', 'C', 'D'], 4, endpoint(['D'], asked, 2));
    expect(result.ok).toEqual(['a', 'b']);
    expect(result.failed.map((f) => [f.symbol, f.error.name])).toEqual([
      ['C', 'ProviderRateLimitedError'],
      ['D', 'ProviderRateLimitedError'],
    ]);
  });

  it('throws what concerns the whole call: a limit before anything came, an open circuit, a refused key', async () => {
    const open = new CircuitOpenError('p', 5000);
    await expect(inBatches(['A', 'B'], 2, async () => Promise.reject(open))).rejects.toBe(open);
    const refused = new ProviderAuthError('p', 'refused');
    await expect(inBatches(['A', 'B'], 2, async () => Promise.reject(refused))).rejects.toBe(refused);
  });
});
