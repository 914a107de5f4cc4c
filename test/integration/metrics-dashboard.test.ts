import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { waitFor } from '../helpers/provider-app.ts';
import { createTestDatabase, removeRedisPrefix, testEnv, uniqueName } from '../helpers/services.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD = path.join(ROOT, 'ops/grafana/stockstreamer-dashboard.json');

/** Every metric name a panel of the dashboard queries. */
function dashboardMetrics(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const names = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      for (const match of target.expr.matchAll(/\b(?:stockstreamer|process|nodejs)_[a-z0-9_]+\b/g)) {
        names.add(match[0]);
      }
    }
  }
  return [...names].sort();
}

/** Runs the compiled bin as production does, and resolves the URLs its banner prints. */
function runRole(role: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['bin/stockstreamer.js', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const banner = new Promise<{ app?: string; metrics?: string }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes(`stockstreamer ${role} is running`) || !output.includes('stop with Ctrl+C'))
        return;
      resolve({
        app: /chart page\s+(http:\/\/\S+)\//.exec(output)?.[1],
        metrics: /metrics\s+(http:\/\/\S+\/metrics)/.exec(output)?.[1],
      });
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}: ${output}`)));
  });
  return {
    banner,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Metric names that have at least one sample (not just HELP and TYPE) in a Prometheus text answer. */
function sampled(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]),
  );
}

describe('metrics of a running fleet (compiled api + worker) and the Grafana dashboard', () => {
  let upstream: FakeUpstream;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const prefix = uniqueName('metrics');
  let api: ReturnType<typeof runRole>;
  let worker: ReturnType<typeof runRole>;
  let apiUrl: string;
  let workerMetricsUrl: string;

  beforeAll(async () => {
    // The bin runs dist/app: build it from these sources, so the test never judges a stale build.
    execFileSync('npm', ['run', '--silent', 'build:app'], { cwd: ROOT, stdio: 'inherit' });
    upstream = await startFakeUpstream();
    // One upstream fault, so the failure counter has a series to show.
    upstream.inject({ kind: 'status', status: 503, provider: 'finnhub', path: '/quote', symbol: 'AAPL' });
    database = await createTestDatabase();
    const env = testEnv(database.url, prefix, {
      ...upstream.env('finnhub'),
      SYMBOLS: 'AAPL,MSFT',
      PRICE_INTERVAL_MS: '1000',
      PROVIDER_BUDGET: '600/min',
    });
    api = runRole('api', env);
    worker = runRole('worker', { ...env, METRICS_PORT: '0' });
    const [apiBanner, workerBanner] = await Promise.all([api.banner, worker.banner]);
    apiUrl = apiBanner.app!;
    workerMetricsUrl = workerBanner.metrics!;
    // A history read on the API; ticks stored and the fault seen by the worker.
    const read = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ priceHistory(tickers: ["AAPL"]) { ticker times } }' }),
    });
    expect(read.status).toBe(200);
    await waitFor('ticks stored and an upstream failure counted by the worker', async () => {
      const text = await (await fetch(workerMetricsUrl)).text();
      return (
        /^stockstreamer_ticks_stored_total [1-9]/m.test(text) &&
        /^stockstreamer_upstream_errors_total\{/m.test(text)
      );
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await upstream?.close();
    await removeRedisPrefix(prefix);
    await database?.drop();
  });

  it("serves process metrics and the pipeline's histograms, and the worker's on its own port", async () => {
    const workerText = await (await fetch(workerMetricsUrl)).text();
    expect(workerText).toMatch(
      /^stockstreamer_upstream_request_seconds_bucket\{le="[^"]+",provider="finnhub",endpoint="\/quote"\} /m,
    );
    expect(workerText).toMatch(
      /^stockstreamer_upstream_errors_total\{provider="finnhub",capability="quotes",kind="unavailable"\} 1$/m,
    );
    expect(workerText).toMatch(
      /^stockstreamer_job_seconds_count\{queue="prices",outcome="completed"\} [1-9]/m,
    );
    expect(workerText).toMatch(/^stockstreamer_slot_to_stored_seconds_count [1-9]/m);
    expect(workerText).toMatch(/^process_resident_memory_bytes \d+/m);

    const apiText = await (await fetch(`${apiUrl}/metrics`)).text();
    expect(apiText).toMatch(/^stockstreamer_history_read_seconds_count 1$/m);
    expect(apiText).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    expect(apiText).toMatch(/^stockstreamer_up\{backend="postgres"\} 1$/m);
  });

  it('has a sample for every metric the Grafana dashboard queries', async () => {
    const [apiText, workerText] = await Promise.all([
      fetch(`${apiUrl}/metrics`).then((r) => r.text()),
      fetch(workerMetricsUrl).then((r) => r.text()),
    ]);
    const present = new Set([...sampled(apiText), ...sampled(workerText)]);
    const queried = dashboardMetrics();
    expect(queried.length).toBeGreaterThan(20);
    expect(queried.filter((name) => !present.has(name))).toEqual([]);
  });
});
