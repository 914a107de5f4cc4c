import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, readlink, realpath, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const HOST = '127.0.0.1';
const execFileAsync = promisify(execFile);

const PING_TIMEOUT_MS = 500;
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
  /** REDIS_URL; when set it is used as is, without a connection attempt, so start-up errors stay the client's. */
  url: string | undefined;
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
  if (opts.url) return { url: opts.url, origin: 'configured', stop: async () => {} };

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
  // Connection failures arrive both as rejections and as 'error' events; the rejection is what we report.
  client.on('error', () => {});
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
    return { ok: false, answered: connected, reason: err instanceof Error ? err.message : String(err) };
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
    const port = await anyFreePort();
    const logOffset = await stat(logFile).then(
      (s) => s.size,
      () => 0,
    );
    const log = await open(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        binary,
        [
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
        // Its own process group, so that a Ctrl-C in the terminal reaches us and not Redis: we stop it after
        // the workers have closed their connections, not under them. Output goes to a file rather than a pipe
        // so that the child does not hold our event loop open.
        { detached: true, stdio: ['ignore', log.fd, log.fd] },
      );
    } finally {
      await log.close();
    }
    child.unref();

    let spawnError: Error | undefined;
    // A binary that cannot be executed reports 'error' and never 'exit'; both end the wait.
    let exitStatus: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitStatus = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
    });
    // Until it answers, an exit is a failed start, reported below rather than logged.
    let expectingExit = true;
    const killOnExit = (): void => {
      child.kill('SIGTERM');
    };
    // Synchronous on purpose: 'exit' listeners cannot wait. SIGTERM makes Redis flush and save before it goes.
    process.on('exit', killOnExit);
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      if (!expectingExit) logger.error({ code, signal, logFile }, 'private redis-server exited unexpectedly');
    });

    const url = `redis://${HOST}:${port}`;
    const ready = await waitForPing(url, exited);
    if (!ready) {
      process.off('exit', killOnExit);
      const failure = exitStatus
        ? `exited (${exitStatus}) before answering PING`
        : `did not answer PING within ${READY_TIMEOUT_MS / 1000} s`;
      child.kill('SIGKILL');
      await exited;
      const output = await readTail(logFile, logOffset);
      if (attempt < 3 && /address already in use/i.test(output)) continue;
      if (spawnError) {
        throw new RedisUnavailableError(`could not run ${binary}: ${spawnError.message}`, {
          cause: spawnError,
        });
      }
      throw new RedisUnavailableError(
        `the private redis-server (${binary}) on ${HOST}:${port} ${failure}. Its output (${logFile}):\n${output}`,
      );
    }

    expectingExit = false;
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        expectingExit = true;
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        if (!(await within(exited, STOP_TIMEOUT_MS))) {
          child.kill('SIGKILL');
          await exited;
        }
        logger.info({ url }, 'private redis-server stopped');
      })();
      return stopping;
    };
    logger.info({ url, dir, serverPid: child.pid }, 'started a private redis-server');
    return { url, origin: 'private', stop };
  }
}

async function waitForPing(url: string, exited: Promise<void>): Promise<boolean> {
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
  if (!Number.isInteger(pid) || pid <= 0) return;
  const info = await inspectProcess(pid);
  // Redis rewrites its process title to "<path>/redis-server host:port", and works from its --dir.
  if (!info || info.zombie || path.basename(info.command.split(' ')[0] ?? '') !== 'redis-server') return;
  if (info.cwd !== undefined && info.cwd !== (await realpath(dir))) return;

  const parent = info.ppid > 1 ? await inspectProcess(info.ppid) : undefined;
  if (parent && !parent.zombie && /^node/.test(path.basename(parent.command.split(' ')[0] ?? ''))) {
    throw new RedisUnavailableError(
      `${dir} is in use by a redis-server (pid ${pid}) that another running process (pid ${info.ppid}) started. ` +
        'Run one `stockstreamer start` instead of separate processes, give each its own DATA_DIR, ' +
        'or point them all at one server with REDIS_URL.',
    );
  }
  logger.warn(
    { leftoverPid: pid },
    'shutting down a redis-server left running by a previous run that was killed',
  );
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const now = await inspectProcess(pid);
    if (!now || now.zombie) return;
    await sleep(100);
  }
  throw new RedisUnavailableError(
    `a redis-server (pid ${pid}) left running on ${dir} by a previous run did not stop within ` +
      `${STOP_TIMEOUT_MS / 1000} s; stop it (kill ${pid}) and start again.`,
  );
}

interface ProcessInfo {
  ppid: number;
  zombie: boolean;
  command: string;
  /** Known on Linux only. */
  cwd: string | undefined;
}

async function inspectProcess(pid: number): Promise<ProcessInfo | undefined> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  try {
    if (process.platform !== 'linux') {
      const { stdout } = await execFileAsync('ps', ['-o', 'ppid=,stat=,command=', '-p', String(pid)]);
      const match = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(stdout.trim());
      if (!match) return undefined;
      return {
        ppid: Number(match[1]),
        zombie: (match[2] ?? '').startsWith('Z'),
        command: match[3] ?? '',
        cwd: undefined,
      };
    }
    const statLine = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself hold spaces and parentheses.
    const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
    return {
      ppid: Number(fields[1]),
      zombie: fields[0] === 'Z',
      command,
      cwd: await readlink(`/proc/${pid}/cwd`).catch(() => undefined),
    };
  } catch {
    return undefined; // it exited while we looked
  }
}

async function readTail(file: string, fromByte: number, maxBytes = 4000): Promise<string> {
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  return bytes.subarray(Math.max(fromByte, bytes.length - maxBytes)).toString('utf8');
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function displayAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return url;
  }
}

function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
