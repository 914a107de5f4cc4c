import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisUnavailableError, type ResolvedRedis, resolveRedis } from '../../src/redis/local-redis.ts';
import { freePort as deadPort } from '../helpers/ports.ts';

const MODULE = fileURLToPath(new URL('../../src/redis/local-redis.ts', import.meta.url));
const logger = pino({ level: 'silent' });

async function withClient<T>(url: string, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await client.connect();
  try {
    return await run(client);
  } finally {
    client.disconnect();
  }
}

async function serverPid(url: string): Promise<number> {
  const info = await withClient(url, (client) => client.info('server'));
  return Number(/process_id:(\d+)/.exec(info)?.[1]);
}

/** Alive and not merely a zombie waiting for PID 1 to reap it. */
async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Runs resolveRedis in a separate Node process that stands in for another run of the app; SIGKILL on it
 * skips its exit handler, as a crash or `kill -9` would.
 */
async function resolveInAnotherProcess(
  dataDir: string,
  defaultUrl: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { pino } = await import('pino');
       const { resolveRedis } = await import(${JSON.stringify(MODULE)});
       const redis = await resolveRedis({ url: undefined, dataDir: ${JSON.stringify(dataDir)},
         logger: pino({ level: 'silent' }), defaultUrl: ${JSON.stringify(defaultUrl)} });
       console.log('READY ' + redis.url);
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the other process exited early (code ${code}): ${out}`)));
  });
  return { child, url };
}

describe('resolveRedis', () => {
  let dataDir: string;
  const resolved: ResolvedRedis[] = [];
  const children: ChildProcess[] = [];
  const leftoverPids: number[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'stockstreamer-redis-'));
  });

  afterEach(async () => {
    for (const redis of resolved.splice(0)) await redis.stop();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const pid of leftoverPids.splice(0)) {
      if (await isRunning(pid)) process.kill(pid, 'SIGKILL');
      // Removing the directory under a server that is still exiting would race with its last writes.
      for (let i = 0; i < 100 && (await isRunning(pid)); i++) await new Promise((r) => setTimeout(r, 100));
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses a configured URL that answers, and does not stop a server it did not start', async () => {
    const url = 'redis://127.0.0.1:6379/3';

    const redis = await resolveRedis({ url, dataDir, logger });

    expect(redis).toMatchObject({ url, origin: 'configured' });
    await redis.stop();
    expect(await withClient(url, (client) => client.ping())).toBe('PONG');
  });

  it('refuses a configured URL where nothing answers, naming REDIS_URL, once its start timeout is over', async () => {
    const port = await deadPort();
    const error = await resolveRedis({
      url: `redis://:secret@127.0.0.1:${port}/3`,
      dataDir,
      logger,
      startTimeoutMs: 300,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toMatch(
      new RegExp(`^REDIS_URL \\(127\\.0\\.0\\.1:${port}\\) did not answer PING`),
    );
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).message).not.toContain('\n');
  });

  it('uses the Redis already answering on 127.0.0.1:6379', async () => {
    const redis = await resolveRedis({ url: undefined, dataDir, logger });
    resolved.push(redis);

    expect(redis).toMatchObject({ url: 'redis://127.0.0.1:6379', origin: 'local' });
    expect(await withClient(redis.url, (client) => client.ping())).toBe('PONG');
    await redis.stop();
    // Not ours to stop.
    expect(await withClient(redis.url, (client) => client.ping())).toBe('PONG');
  });

  it('starts a private redis-server on loopback when nothing answers, and stop() ends it', async () => {
    const redis = await resolveRedis({
      url: undefined,
      dataDir,
      logger,
      defaultUrl: `redis://127.0.0.1:${await deadPort()}`,
    });
    resolved.push(redis);

    expect(redis.origin).toBe('private');
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(redis.url).port);
    const config = await withClient(redis.url, async (client) => ({
      ping: await client.ping(),
      bind: await client.config('GET', 'bind'),
      policy: await client.config('GET', 'maxmemory-policy'),
      appendonly: await client.config('GET', 'appendonly'),
      dir: await client.config('GET', 'dir'),
    }));
    expect(config).toEqual({
      ping: 'PONG',
      bind: ['bind', '127.0.0.1'],
      policy: ['maxmemory-policy', 'noeviction'],
      appendonly: ['appendonly', 'yes'],
      dir: ['dir', path.join(dataDir, 'redis')],
    });
    const outside = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (outside) expect(await canConnect(outside.address, port)).toBe(false);

    const pid = await serverPid(redis.url);
    await withClient(redis.url, (client) => client.set('kept', 'across restarts'));
    await redis.stop();
    await redis.stop(); // idempotent
    expect(await isRunning(pid)).toBe(false);
    expect(await canConnect('127.0.0.1', port)).toBe(false);

    const again = await resolveRedis({
      url: undefined,
      dataDir,
      logger,
      defaultUrl: `redis://127.0.0.1:${await deadPort()}`,
    });
    resolved.push(again);
    expect(await withClient(again.url, (client) => client.get('kept'))).toBe('across restarts');
  });

  it('shuts down a private redis-server left behind by a run that was killed', async () => {
    const defaultUrl = `redis://127.0.0.1:${await deadPort()}`;
    const { child, url: oldUrl } = await resolveInAnotherProcess(dataDir, defaultUrl);
    children.push(child);
    const leftover = await serverPid(oldUrl);
    leftoverPids.push(leftover);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await isRunning(leftover)).toBe(true);

    const redis = await resolveRedis({ url: undefined, dataDir, logger, defaultUrl });
    resolved.push(redis);

    expect(redis.origin).toBe('private');
    expect(await isRunning(leftover)).toBe(false);
    expect(await withClient(redis.url, (client) => client.ping())).toBe('PONG');
  });

  it('refuses a data directory whose private redis-server belongs to another live process', async () => {
    const defaultUrl = `redis://127.0.0.1:${await deadPort()}`;
    const { child, url: otherUrl } = await resolveInAnotherProcess(dataDir, defaultUrl);
    children.push(child);
    const otherPid = await serverPid(otherUrl);
    leftoverPids.push(otherPid);

    const attempt = resolveRedis({ url: undefined, dataDir, logger, defaultUrl });

    await expect(attempt).rejects.toMatchObject({
      name: 'RedisUnavailableError',
      message: expect.stringContaining(`in use by a redis-server (pid ${otherPid})`),
    });
    expect(await withClient(otherUrl, (client) => client.ping())).toBe('PONG');
  });

  it('fails at once with the install command when no Redis answers and redis-server is not on PATH', async () => {
    const defaultUrl = `redis://127.0.0.1:${await deadPort()}`;

    for (const searchPath of ['', dataDir]) {
      const attempt = resolveRedis({ url: undefined, dataDir, logger, defaultUrl, searchPath });

      await expect(attempt).rejects.toBeInstanceOf(RedisUnavailableError);
      const error = (await attempt.catch((err: unknown) => err)) as Error;
      expect(error.name).toBe('RedisUnavailableError');
      expect(error.message).toContain(`No Redis server answers at 127.0.0.1:${new URL(defaultUrl).port}`);
      expect(error.message).toContain('`redis-server` is not on PATH');
      expect(error.message).toContain('`sudo apt-get install -y redis-server` (Debian/Ubuntu)');
      expect(error.message).toContain('`brew install redis` (macOS)');
      expect(error.message).toContain('REDIS_URL');
    }
  });
});
