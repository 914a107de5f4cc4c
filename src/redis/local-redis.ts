import { constants } from 'node:fs';
import { access, mkdir, open, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { anyFreePort, classifyLeftover, programOf, startChildServer, stopOrphan } from '../child-server.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const HOST = '127.0.0.1';

const PING_TIMEOUT_MS = 500;
const CONFIGURED_START_TIMEOUT_MS = 5000;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PID_FILE = 'redis-server.pid';
const LOG_FILE = 'redis-server.log';

/**
 * No Redis could be found or started. The message carries the install command, because this is the one
 * dependency a newcomer's `npm start` cannot bring along from npm.
 */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** Where the Redis URL came from: REDIS_URL, a server already on 127.0.0.1:6379, or one we started. */
export type RedisOrigin = 'configured' | 'local' | 'private';

export interface ResolvedRedis {
  url: string;
  /** Stops the server if we started it (otherwise does nothing) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
  origin: RedisOrigin;
}

export interface ResolveRedisOptions {
  /**
   * REDIS_URL. When set, it must answer PING within `startTimeoutMs`: a process that cannot reach its Redis
   * at start fails with one line, as it does for PostgreSQL, instead of retrying (and logging) forever.
   */
  url: string | undefined;
  /** How long a configured Redis may take to answer at start (one that is booting too); default 5 s. */
  startTimeoutMs?: number;
  /** The private server keeps its files in `${dataDir}/redis`. */
  dataDir: string;
  logger: Logger;
  /** Where a local server is looked for first. */
  defaultUrl?: string;
  /** PATH-style directory list searched for `redis-server`; defaults to the PATH environment variable. */
  searchPath?: string;
}

/**
 * Finds the Redis to use: the configured URL; else a server answering at 127.0.0.1:6379; else a private
 * `redis-server` we start on a free port bound to 127.0.0.1, with append-only persistence in
 * `${dataDir}/redis` and `noeviction` (BullMQ loses jobs under any other policy); else a
 * {@link RedisUnavailableError} with the install command.
 *
 * The private server is killed when this process exits, however it exits short of SIGKILL or an unhandled
 * signal; one left behind by such a run is shut down before a new one starts on the same directory.
 */
export async function resolveRedis(opts: ResolveRedisOptions): Promise<ResolvedRedis> {
  const logger = opts.logger.child({ component: 'redis' });
  if (opts.url) {
    await waitForConfiguredRedis(opts.url, opts.startTimeoutMs ?? CONFIGURED_START_TIMEOUT_MS);
    return { url: opts.url, origin: 'configured', stop: async () => {} };
  }

  const defaultUrl = opts.defaultUrl ?? DEFAULT_REDIS_URL;
  const probe = await pingRedis(defaultUrl, PING_TIMEOUT_MS);
  if (probe.ok) {
    logger.info({ url: defaultUrl }, 'using the Redis server already running locally');
    return { url: defaultUrl, origin: 'local', stop: async () => {} };
  }
  if (probe.answered) {
    // Something is there but refuses us (a password, most likely); a private server still works, but the
    // user may have meant that one.
    logger.warn(
      { url: defaultUrl, reason: probe.reason },
      'Redis answered but refused PING; set REDIS_URL to use it',
    );
  }

  const binary = await findExecutable('redis-server', opts.searchPath ?? process.env.PATH ?? '');
  if (!binary) {
    throw new RedisUnavailableError(
      `No Redis server answers at ${displayAddress(defaultUrl)}, and \`redis-server\` is not on PATH, so a ` +
        'private one cannot be started. Install Redis: `sudo apt-get install -y redis-server` (Debian/Ubuntu) ' +
        'or `brew install redis` (macOS); or set REDIS_URL to a Redis server you already have.',
    );
  }
  return startPrivateRedis(binary, path.resolve(opts.dataDir, 'redis'), logger);
}

/**
 * PINGs a configured Redis until it answers or `timeoutMs` has passed. Only start-up is bounded: once a
 * process has started, its clients reconnect forever, as a worker must outlive a Redis restart.
 */
async function waitForConfiguredRedis(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await pingRedis(url, Math.min(PING_TIMEOUT_MS * 2, Math.max(100, deadline - Date.now())));
    if (probe.ok) return;
    if (Date.now() >= deadline) {
      throw new RedisUnavailableError(
        `REDIS_URL (${displayAddress(url)}) did not answer PING within ${timeoutMs / 1000} s: ` +
          `${(probe.reason ?? 'no answer').replace(/\.$/, '')}. Start Redis there, or set REDIS_URL to a Redis that runs.`,
      );
    }
    await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
  }
}

export interface PingResult {
  ok: boolean;
  /** True when a Redis answered, even with an error such as NOAUTH. */
  answered: boolean;
  reason?: string;
}

/** One PING with no retries, so that a dead address costs at most `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs: number): Promise<PingResult> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // ioredis arms this timer on disconnect() even when the socket never opened, and it would hold a
    // short-lived process open for its default 2 s.
    disconnectTimeout: 100,
  });
  // Connection failures arrive both as rejections and as 'error' events; the event says why (ECONNREFUSED,
  // ENOTFOUND, WRONGPASS), the rejection only that the connection closed.
  let socketError: Error | undefined;
  client.on('error', (error: Error) => {
    socketError ??= error;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  let connected = false;
  try {
    await Promise.race([client.connect(), timeout]);
    connected = true;
    const reply = await Promise.race([client.ping(), timeout]);
    return { ok: reply === 'PONG', answered: true };
  } catch (err) {
    const reason = socketError?.message ?? (err instanceof Error ? err.message : String(err));
    return { ok: false, answered: connected, reason };
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** The first executable regular file called `name` in a PATH-style list, or undefined. */
export async function findExecutable(name: string, searchPath: string): Promise<string | undefined> {
  // An empty entry means the current directory to a shell; we do not go looking for servers there.
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function startPrivateRedis(binary: string, dir: string, logger: Logger): Promise<ResolvedRedis> {
  await mkdir(dir, { recursive: true });
  await reapLeftover(dir, logger);
  const logFile = path.join(dir, LOG_FILE);

  // A free port can be taken between our probe and redis binding it; a bind failure is worth another try.
  for (let attempt = 1; ; attempt++) {
    const port = await anyFreePort(HOST);
    const logOffset = await stat(logFile).then(
      (s) => s.size,
      () => 0,
    );
    const log = await open(logFile, 'a');
    const server = startChildServer({
      name: 'private redis-server',
      command: binary,
      args: [
        '--bind',
        HOST,
        '--port',
        String(port),
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--appendonly',
        'yes',
        '--maxmemory-policy',
        'noeviction',
        // Job schedulers start late by up to 1/hz seconds (docs/BENCHMARKS.md, P6); 500 is Redis's maximum.
        '--hz',
        '500',
        '--pidfile',
        path.join(dir, PID_FILE),
      ],
      logger,
      // Output goes to a file rather than a pipe so that the child does not hold our event loop open.
      spawn: { stdio: ['ignore', log.fd, log.fd] },
      // SIGTERM makes Redis flush and save before it goes.
      stopSignal: 'SIGTERM',
      escalationSignal: 'SIGKILL',
      stopTimeoutMs: STOP_TIMEOUT_MS,
    });
    // The child holds its own copy of the descriptor.
    await log.close();
    server.process.unref();

    const url = `redis://${HOST}:${port}`;
    const ready = await waitForPing(url, server.exited);
    if (!ready) {
      const running = server.running();
      server.process.kill('SIGKILL');
      const exit = await server.exited;
      const output = await readTail(logFile, logOffset);
      if (attempt < 3 && /address already in use/i.test(output)) continue;
      if (exit.error) {
        throw new RedisUnavailableError(`could not run ${binary}: ${exit.error.message}`, {
          cause: exit.error,
        });
      }
      const failure = running
        ? `did not answer PING within ${READY_TIMEOUT_MS / 1000} s`
        : `exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}) before answering PING`;
      throw new RedisUnavailableError(
        `the private redis-server (${binary}) on ${HOST}:${port} ${failure}. Its output (${logFile}):\n${output}`,
      );
    }

    server.watch();
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        const wasRunning = server.running();
        await server.stop();
        if (wasRunning) logger.info({ url }, 'private redis-server stopped');
      })();
      return stopping;
    };
    logger.info({ url, dir, serverPid: server.pid }, 'started a private redis-server');
    return { url, origin: 'private', stop };
  }
}

async function waitForPing(url: string, exited: Promise<unknown>): Promise<boolean> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!gone && Date.now() < deadline) {
    if ((await pingRedis(url, 200)).ok) return true;
    await sleep(50);
  }
  return false;
}

/**
 * A private server outlives a run killed with SIGKILL (or by a signal nothing handled). Two servers on one
 * directory would both append to the same AOF, so a leftover is shut down first. A server whose parent is a
 * live Node process belongs to another running instance of ours and is left alone.
 */
async function reapLeftover(dir: string, logger: Logger): Promise<void> {
  const text = await readFile(path.join(dir, PID_FILE), 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text ?? '', 10);
  const realDir = await realpath(dir);
  // Redis rewrites its process title to "<path>/redis-server host:port", and works from its --dir.
  const leftover = await classifyLeftover(
    pid,
    (info) => programOf(info) === 'redis-server' && (info.cwd === undefined || info.cwd === realDir),
  );
  if (leftover.kind === 'none') return;
  if (leftover.kind === 'owned') {
    throw new RedisUnavailableError(
      `${dir} is in use by a redis-server (pid ${pid}) that another running process (pid ${leftover.ppid}) started. ` +
        'Run one `stockstreamer start` instead of separate processes, give each its own DATA_DIR, ' +
        'or point them all at one server with REDIS_URL.',
    );
  }
  logger.warn(
    { leftoverPid: pid },
    'shutting down a redis-server left running by a previous run that was killed',
  );
  if (!(await stopOrphan(pid, 'SIGTERM', STOP_TIMEOUT_MS))) {
    throw new RedisUnavailableError(
      `a redis-server (pid ${pid}) left running on ${dir} by a previous run did not stop within ` +
        `${STOP_TIMEOUT_MS / 1000} s; stop it (kill ${pid}) and start again.`,
    );
  }
}

async function readTail(file: string, fromByte: number, maxBytes = 4000): Promise<string> {
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  return bytes.subarray(Math.max(fromByte, bytes.length - maxBytes)).toString('utf8');
}

function displayAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return url;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
