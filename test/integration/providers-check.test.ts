import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { runProvidersCheck } from '../../src/providers/check.ts';
import { createPlannedBudget, requestBudgetKey } from '../../src/providers/request-budget.ts';
import { planForConfig } from '../../src/providers/request-plan.ts';
import { type FakeProvider, type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { removeRedisPrefix, TEST_REDIS_URL, uniqueName } from '../helpers/services.ts';

const run = promisify(execFile);
/**
 * The check draws on the shared budget in Redis: each check its own prefix here, so one check's turns
 * (Polygon's 5 a minute) do not hold up the next test's.
 */
const prefixes: string[] = [];
const freshPrefix = () => {
  prefixes.push(uniqueName('check'));
  return prefixes.at(-1)!;
};

/** `stockstreamer providers check`, run as a user runs it: the real CLI in its own process. */
async function checkCli(env: Record<string, string>, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'providers', 'check', ...args],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, QUEUE_PREFIX: freshPrefix(), ...env },
        timeout: 30_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The same command in-process (a process start costs seconds on a busy machine). */
async function check(env: Record<string, string>, symbol?: string) {
  let stdout = '';
  const code = await runProvidersCheck(loadConfig({ QUEUE_PREFIX: freshPrefix(), ...env }), symbol, {
    write: (text: string) => (stdout += text),
  });
  return { code, stdout };
}

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(async () => {
  await fake?.close();
  for (const prefix of prefixes) await removeRedisPrefix(prefix);
});

describe('stockstreamer providers check', () => {
  it.each(['finnhub', 'twelvedata', 'alphavantage', 'yahoo', 'polygon'] as FakeProvider[])(
    'asks %s once per capability for the first of SYMBOLS and prints what came back, with timings',
    async (provider) => {
      fake.requests.length = 0;
      // One through the real CLI process, the others in-process: the same code after argument parsing.
      const { code, stdout } =
        provider === 'finnhub'
          ? await checkCli(fake.env(provider, { SYMBOLS: 'NVDA,AAPL' }))
          : await check(fake.env(provider, { SYMBOLS: 'NVDA,AAPL' }));
      expect(code).toBe(0);
      expect(stdout).toContain(`provider ${provider} at ${fake.url}/${provider}`);
      expect(stdout).toContain('symbol NVDA');
      expect(stdout).toMatch(/\n {2}quote +ok +\d+ ms {2}138\.2 at /);
      expect(stdout).toMatch(/\n {2}name and logo {2}ok +\d+ ms {2}NVIDIA Corporation · /);
      // A downloaded logo prints as its type and size, not as kilobytes of base64.
      expect(stdout).toMatch(
        provider === 'alphavantage' || provider === 'yahoo'
          ? /NVIDIA Corporation · \/logos\/NVDA\.svg \(the app's monogram\)\n/
          : /NVIDIA Corporation · image\/(png|svg\+xml), \d+\.\d KB \(downloaded, served at \/logos\/NVDA\)\n/,
      );
      expect(stdout).toMatch(/\n {2}52-week range {2}ok +\d+ ms {2}high 152\.89 · low 45\.01/);
      expect(stdout).toContain('all capabilities answered');
      expect(fake.requests.every((r) => r.symbols.join() === 'NVDA')).toBe(true);
    },
  );

  it('takes --symbol, and exits 1 naming what failed when the provider does not know it', async () => {
    const { code, stdout } = await checkCli(fake.env('yahoo'), ['--symbol', 'zzzz']);
    expect(code).toBe(1);
    expect(stdout).toContain('symbol ZZZZ');
    expect(stdout).toMatch(
      /\n {2}quote +FAILED +\d+ ms {2}yahoo: unknown symbol ZZZZ \(\/v8\/finance\/chart answered 404 Not Found/,
    );
    expect(stdout).toContain('3 of 3 capabilities failed');
  });

  it('says plainly when the key is refused', async () => {
    const { code, stdout } = await check(fake.env('polygon', { POLYGON_API_KEY: 'wrong-key' }));
    expect(code).toBe(1);
    expect(stdout).toContain(
      'polygon: /v2/snapshot/locale/us/markets/stocks/tickers refused the request (HTTP 403): "{\\"status\\":\\"NOT_AUTHORIZED\\"',
    );
    expect(stdout).not.toContain('wrong-key');
  });

  it('takes its requests from the shared budget the running app uses', async () => {
    const env = fake.env('finnhub', {
      SYMBOLS: 'NVDA',
      PROVIDER_BUDGET: '10/min',
      QUEUE_PREFIX: uniqueName('q'),
    });
    const { code } = await check(env);
    expect(code).toBe(0);
    const config = loadConfig(env);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const plan = planForConfig(config, 'per-symbol', 1)!;
      const budget = createPlannedBudget(redis, requestBudgetKey(env.QUEUE_PREFIX!, 'finnhub'), plan);
      // quote, profile, logo image, metric: four of the ten are gone, as the app's next requests see.
      // (Finnhub's burst rule spaces any two requests by a few milliseconds: that wait is not the window.)
      const take = async (weight: number) => {
        let wait = await budget.take(weight);
        while (wait > 0 && wait < 1000) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          wait = await budget.take(weight);
        }
        return wait;
      };
      expect(await take(6)).toBe(0);
      expect(await take(1)).toBeGreaterThan(1000);
    } finally {
      redis.disconnect();
      await removeRedisPrefix(env.QUEUE_PREFIX!);
    }
  });

  it('never reports a 404 on an endpoint path as a success, and names the base URL variable', async () => {
    // The profile path answers 404 with a JSON body, as a wrong base URL or version path does.
    fake.inject({ provider: 'finnhub', path: '/stock/profile2', kind: 'json', status: 404, body: {} });
    const { code, stdout } = await check(fake.env('finnhub', { SYMBOLS: 'NVDA' }));
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /\n {2}name and logo {2}FAILED +\d+ ms {2}finnhub: \/stock\/profile2 is not there: .* answered HTTP 404 "\{\}"; is FINNHUB_BASE_URL=.* right\?/,
    );
    expect(stdout).toContain('1 of 3 capabilities failed');
  });

  it('stops before any request when the key is missing, naming the variable', async () => {
    const { code, stderr } = await checkCli({ PROVIDER: 'finnhub' });
    expect(code).toBe(78);
    expect(stderr).toMatch(
      /^stockstreamer: FINNHUB_API_KEY=\(unset\) is not valid: wanted the API key that PROVIDER=finnhub needs/,
    );
  });
});
