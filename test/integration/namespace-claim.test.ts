import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { NamespaceClaimedError, namespaceClaimKey } from '../../src/namespace-claim.ts';
import { startRole } from '../../src/start.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { waitFor } from '../helpers/provider-app.ts';
import { createTestDatabase, silentLogger, TEST_REDIS_URL, testEnv } from '../helpers/services.ts';

const run = promisify(execFile);

/**
 * Two installs on one Redis with the default prefix each brought their own database: before the claim, the
 * second's ticks went to the first's workers and the first's ticks to the second's page, silently.
 */
describe('one deployment per QUEUE_PREFIX', () => {
  let first: TestApp;
  let other: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: Redis;
  beforeAll(async () => {
    first = await startTestApp({ role: 'worker' });
    other = await createTestDatabase({ migrate: false });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await first?.stop();
    await other?.drop();
  });

  it('refuses a process of another database on the same prefix, naming QUEUE_PREFIX and the way out', async () => {
    const config = loadConfig(testEnv(other.url, first.prefix));
    const refused = await startRole('start', config, { logger: silentLogger }).then(
      async (running) => {
        await running.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(NamespaceClaimedError);
    const message = (refused as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`QUEUE_PREFIX "${first.prefix}"`);
    expect(message).toMatch(/give this deployment its own QUEUE_PREFIX/);
    expect(message).toContain(`redis-cli DEL ${namespaceClaimKey(first.prefix)}`);
    // The first deployment keeps its claim and its queues: nothing of the refused one was scheduled.
    const claim = JSON.parse((await redis.get(namespaceClaimKey(first.prefix)))!) as { database: string };
    expect(claim.database).toContain(first.database.name);
  });

  it('welcomes more processes of the same database (another API, another worker)', async () => {
    const config = loadConfig(testEnv(first.database.url, first.prefix));
    const api = await startRole('api', config, { logger: silentLogger });
    try {
      expect(api.url).toBeDefined();
      const response = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ watchlist { ticker } }' }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: { watchlist: unknown[] } }).data.watchlist).toHaveLength(6);
    } finally {
      await api.close();
    }
  });

  it('puts its claim back when Redis comes back without it', async () => {
    const key = namespaceClaimKey(first.prefix);
    const claimed = await redis.get(key);
    await redis.del(key);
    // A reconnect, as after a Redis restart without persistence.
    first.deps.redis.disconnect(true);
    await waitFor('the claim to be made again', async () => (await redis.get(key)) ?? undefined, 10_000);
    expect(await redis.get(key)).toBe(claimed);
  });

  it('the CLI prints the refusal as one line and exits non-zero', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...testEnv(other.url, first.prefix),
    };
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
      env,
      timeout: 30_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^stockstreamer: QUEUE_PREFIX ".+" is already used on this Redis by another/);
  });
});
