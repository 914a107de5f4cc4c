import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `everyMs` until it resolves true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve(probe()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** One PING without retries: true when a Redis server answers at `url`. */
export async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}

/** A loopback redis-server as ops/ ships it: append-only, `noeviction`, hz 100, its log in `dir`. */
export function redisServerArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--maxmemory-policy',
    'noeviction',
    '--hz',
    '100',
    '--logfile',
    path.join(dir, 'redis.log'),
  ];
}

export interface PrivateRedis {
  readonly url: string;
  readonly pid: number | undefined;
  /**
   * Starts (again) on the same port. `empty` deletes its data first, which is how a Redis without
   * persistence (or a replaced one) comes back. Resolves once it answers PING, with that instant.
   */
  start(options?: { empty?: boolean }): Promise<number>;
  /** SIGTERM, as `systemctl stop` sends: Redis writes its append-only file and exits. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A redis-server of this test's own, on a port of its own, with its data in `dir` (append-only, so a stop
 * and start keeps the keys, as a production Redis should), `noeviction` and hz 100 as ops/ ships it.
 */
export async function createPrivateRedis(dir: string): Promise<PrivateRedis> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const ping = () => answersPing(url);

  const handle: PrivateRedis = {
    url,
    get pid() {
      return child?.pid;
    },
    async start(options = {}) {
      if (child) throw new Error('redis-server is already running');
      if (options.empty) {
        for (const entry of await readdir(dir)) {
          if (entry !== 'redis.log') await rm(path.join(dir, entry), { recursive: true, force: true });
        }
      }
      child = spawn('redis-server', redisServerArgs(port, dir), { stdio: 'ignore' });
      const started = child;
      started.once('exit', () => {
        if (child === started) child = undefined;
      });
      await waitFor(`redis-server on port ${port}`, ping, 10_000, 20);
      return Date.now();
    },
    async stop() {
      const current = child;
      if (!current) return;
      const exited = once(current, 'exit');
      current.kill('SIGTERM');
      await exited;
    },
    async dispose() {
      const current = child;
      if (!current) return;
      const exited = once(current, 'exit');
      current.kill('SIGKILL');
      await exited;
    },
  };
  await handle.start();
  return handle;
}

export interface PrivatePostgres {
  /** The `stockstreamer` database on this server. */
  readonly url: string;
  /** Starts (again) on the same port; resolves once it accepts connections, with that instant. */
  start(): Promise<number>;
  /** A fast shutdown, as `systemctl stop postgresql` does: sessions are ended, the server exits. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/** The newest PostgreSQL server binaries Debian installed (pg_ctl, initdb), or FAULTS_PG_BIN. */
async function postgresBin(): Promise<string> {
  if (process.env.FAULTS_PG_BIN) return process.env.FAULTS_PG_BIN;
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[]))
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new Error(
      'no PostgreSQL server binaries in /usr/lib/postgresql; set FAULTS_PG_BIN to their folder',
    );
  }
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/**
 * A PostgreSQL cluster of this test's own in `dir` (initdb, then pg_ctl), on a fixed port so that the
 * app's DATABASE_URL stays right across a restart. PostgreSQL refuses to run as root, so as root the
 * cluster belongs to the `postgres` account. Durability settings are off: this data lives for one test.
 */
export async function createPrivatePostgres(dir: string): Promise<PrivatePostgres> {
  const bin = await postgresBin();
  const asRoot = process.getuid?.() === 0;
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  await mkdir(dir, { recursive: true });
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    owner = { uid: Number(stdout.trim()), gid: Number(group.trim()) };
    await chown(dir, owner.uid, owner.gid);
  }
  const asOwner = (command: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args])
      : run(path.join(bin, command), args);

  await asOwner('initdb', [
    '-D',
    dataDir,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const port = await freePort();
  const settings = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 100',
  ];
  const conf = path.join(dataDir, 'postgresql.auto.conf');
  await writeFile(conf, `${settings.join('\n')}\n`);
  if (owner) await chown(conf, owner.uid, owner.gid);

  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const url = `postgres://postgres@127.0.0.1:${port}/stockstreamer`;
  let running = false;
  const handle: PrivatePostgres = {
    url,
    async start() {
      await asOwner('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
      running = true;
      await waitFor(
        `PostgreSQL on port ${port}`,
        async () => {
          const client = new pg.Client({ connectionString: admin });
          try {
            await client.connect();
            await client.query('select 1');
            return true;
          } finally {
            await client.end().catch(() => {});
          }
        },
        30_000,
        50,
      );
      return Date.now();
    },
    async stop() {
      if (!running) return;
      await asOwner('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
      running = false;
    },
    async dispose() {
      if (!running) return;
      await asOwner('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      running = false;
    },
  };
  await handle.start();
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query('create database stockstreamer');
  await client.end();
  return handle;
}
