import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createAdmission } from '../../src/server/admission.ts';
import { buildApp } from '../../src/server/app.ts';
import { createClientLimits } from '../../src/server/client-limits.ts';
import { createHealthCheck } from '../../src/server/health.ts';
import { freePort } from '../helpers/ports.ts';
import { createTestDatabase, silentLogger } from '../helpers/services.ts';

/** A private redis-server, so this test can stop it without touching the machine's shared one. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: null,
  });
  probe.on('error', () => {}); // refused until the server is up; retried by the strategy above
  await probe.ping();
  probe.disconnect();
  return child;
}

describe('/healthz', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let redisServer: ChildProcess | undefined;
  let redis: Redis;
  let url: string;
  let server: ReturnType<ReturnType<typeof buildApp>['listen']>;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    pool = new pg.Pool({ connectionString: database.url });
    const port = await freePort();
    redisServer = await startRedis(port);
    redis = new Redis(port, '127.0.0.1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 100,
    });
    redis.on('error', () => {});
    await once(redis, 'ready');
    const config = loadConfig({});
    const app = buildApp({
      logger: silentLogger,
      graphql: {
        handleNodeRequestAndResponse: () => new Response('unused'),
        fetch: () => new Response('unused'),
      },
      health: createHealthCheck({ pool, redis, timeoutMs: 1000 }),
      queues: [],
      webRoot: '/nonexistent',
      security: config.security,
      admission: createAdmission({
        server: config.server,
        security: config.security,
        limits: createClientLimits({ perMinute: 60, maxStreams: 1 }),
        logger: silentLogger,
        keyPrefix: 'unused',
      }),
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/healthz`;
  });

  afterAll(async () => {
    server?.close();
    redis?.disconnect();
    redisServer?.kill('SIGKILL');
    await pool?.end();
    await database?.drop();
  });

  it('answers 200 while Postgres and Redis answer', async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', postgres: true, redis: true });
  });

  it('counts a connection still making its first connection as up once it is ready (a process just started)', async () => {
    const fresh = new Redis((redis.options.port as number) ?? 6379, '127.0.0.1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    fresh.on('error', () => {});
    try {
      expect(fresh.status).toBe('connecting');
      const report = await createHealthCheck({ pool, redis: fresh, timeoutMs: 5000 })();
      expect(report.redis).toBe(true);
    } finally {
      fresh.disconnect();
    }
  });

  it('turns 503 when Redis is unreachable', async () => {
    redisServer!.kill('SIGKILL');
    await once(redisServer!, 'exit');
    redisServer = undefined;
    const response = await fetch(url);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'degraded',
      postgres: true,
      redis: false,
      reason: 'not reachable: redis',
    });
  });
});
