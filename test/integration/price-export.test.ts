import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportStatement } from '../../src/db/price-export.ts';
import { createTickRepository } from '../../src/db/tick-repository.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const START = Date.UTC(2026, 10, 23, 14, 30, 0);
const MINUTE = 60_000;

/** Two tickers, a tick every 5 s for 20 minutes, prices a known function of the index. */
function ticks(): Tick[] {
  const out: Tick[] = [];
  for (const [ticker, base] of [
    ['AAPL', 200],
    ['INTC', 30],
  ] as const) {
    for (let i = 0; i < 240; i++) {
      out.push({ ticker, price: base + ((i * 7) % 13) / 4, time: new Date(START + i * 5000) });
    }
  }
  return out;
}

function csvRows(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(','));
}

describe('/export/prices.csv, streamed from PostgreSQL', () => {
  let app: TestApp;
  const stored = ticks();
  const url = (query: string) => `${app.url}/export/prices.csv?${query}`;
  const window = `from=${new Date(START).toISOString()}&to=${new Date(START + 20 * MINUTE).toISOString()}`;

  beforeAll(async () => {
    app = await startTestApp({ role: 'api', env: { MAX_SUBSCRIPTIONS_PER_CLIENT: '2' } });
    const repo = createTickRepository(app.deps.database.db);
    await repo.insertTicks(stored);
    await repo.foldRollup(new Date(START + 60 * MINUTE));
  });
  afterAll(() => app?.stop());

  it('every stored tick of the window, in order, as a download', async () => {
    const response = await fetch(url(`tickers=AAPL,INTC&interval=tick&${window}`));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="prices-AAPL-INTC-tick-2026-11-23-2026-11-23.csv"',
    );
    const [header, ...rows] = csvRows(await response.text());
    expect(header).toEqual(['ticker', 'time', 'price']);
    expect(rows).toEqual(
      stored.map((t) => [t.ticker, t.time.toISOString(), String(Number(t.price.toFixed(2)))]),
    );
  });

  it('OHLC bars from the minute rollup, at each interval', async () => {
    for (const [interval, widthMs] of [
      ['1m', MINUTE],
      ['5m', 5 * MINUTE],
      ['1h', 60 * MINUTE],
    ] as const) {
      const response = await fetch(url(`tickers=INTC&interval=${interval}&${window}`));
      expect(response.status).toBe(200);
      const [header, ...rows] = csvRows(await response.text());
      expect(header).toEqual(['ticker', 'start', 'open', 'high', 'low', 'close', 'ticks']);
      // The expected bars, computed here from the ticks themselves.
      const byStart = new Map<number, Tick[]>();
      for (const tick of stored.filter((t) => t.ticker === 'INTC')) {
        const start = Math.floor(tick.time.getTime() / widthMs) * widthMs;
        byStart.set(start, [...(byStart.get(start) ?? []), tick]);
      }
      const expected = [...byStart].map(([start, group]) => {
        const prices = group.map((t) => t.price);
        return [
          'INTC',
          new Date(start).toISOString(),
          String(prices[0]),
          String(Math.max(...prices)),
          String(Math.min(...prices)),
          String(prices.at(-1)),
          String(group.length),
        ];
      });
      expect(rows, interval).toEqual(expected);
    }
  });

  it.each([
    ['no tickers', window, 'tickers: wanted one or more tickers'],
    ['a bad ticker', `tickers=AA%27PL&${window}`, 'tickers:'],
    ['an unknown interval', `tickers=AAPL&interval=2m&${window}`, 'interval: wanted one of tick, 1m, 5m'],
    ['a day without a zone', 'tickers=AAPL&from=2026-11-23', 'from: DateTime wants an ISO-8601 instant'],
    [
      'a window over a year',
      'tickers=AAPL&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'at most 366 days',
    ],
    [
      'to before from',
      'tickers=AAPL&from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z',
      'must not be after to',
    ],
    ['an unknown parameter', `tickers=AAPL&${window}&format=xlsx`, 'unknown parameter format'],
  ])('refuses %s with 400 and says what is wanted', async (_, query, message) => {
    const response = await fetch(url(query));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(message);
  });

  it('streams ticks in the order of the key: the window is never sorted before its first byte', async () => {
    const statement = exportStatement(
      {
        tickers: ['AAPL', 'INTC'],
        from: new Date(START),
        to: new Date(START + 20 * MINUTE),
        interval: 'tick',
      },
      (value) => `'${value.replace(/'/g, "''")}'`,
    );
    const select = /^COPY \(([\s\S]*)\) TO STDOUT/.exec(statement)![1]!;
    const client = await app.deps.database.pool.connect();
    try {
      // Sorting priced out: a plan that can take the order from the key does; one that cannot still sorts.
      await client.query('begin');
      await client.query('set local enable_sort = off');
      const plan = JSON.stringify((await client.query(`explain (format json) ${select}`)).rows[0]);
      await client.query('rollback');
      // Sort, or Incremental Sort on the ticker's presorted part.
      expect(plan).not.toMatch(/"Node Type":"[A-Za-z ]*Sort"/);
    } finally {
      client.release();
    }
  });

  it('is checked like /graphql: a foreign Origin is refused', async () => {
    const response = await fetch(url(`tickers=AAPL&${window}`), {
      headers: { origin: 'https://evil.example' },
    });
    expect(response.status).toBe(403);
  });

  it('a reader that leaves ends its COPY and gives its slot back; the server keeps serving', async () => {
    // Big enough (~9 MB of CSV) that the reader leaves while PostgreSQL is still sending.
    await app.deps.database.pool.query(
      `insert into stock_prices (stock_name, price, time)
       select 'BIG', 100 + (i % 100) / 10.0, $1::timestamptz + i * interval '1 second'
       from generate_series(0, 299999) as i`,
      [new Date(START).toISOString()],
    );
    const big = `tickers=BIG&interval=tick&from=${new Date(START).toISOString()}&to=${new Date(START + 4 * 86_400_000).toISOString()}`;
    const runningCopies = async () =>
      (
        await app.deps.database.pool.query(
          "select count(*)::int as n from pg_stat_activity where query like 'COPY (%' and state <> 'idle' and pid <> pg_backend_pid()",
        )
      ).rows[0].n as number;
    // More abandoned downloads than the client's stream cap (2): each must give its slot back.
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const response = await fetch(url(big), { signal: controller.signal });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await reader.read();
      expect(await runningCopies()).toBe(1);
      controller.abort();
      await reader.read().catch(() => undefined);
      await expect.poll(runningCopies).toBe(0);
    }
    expect((await fetch(url(`tickers=AAPL&interval=1h&${window}`))).status).toBe(200);
    // and a whole download of it still arrives complete
    const whole = await (await fetch(url(big))).text();
    expect(whole.trimEnd().split('\n')).toHaveLength(300_001);
  });
});
