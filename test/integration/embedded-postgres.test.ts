import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Logger, pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../src/db/embedded.ts';

const MODULE = fileURLToPath(new URL('../../src/db/embedded.ts', import.meta.url));
const asRoot = process.getuid?.() === 0;

interface LogLine {
  level: number;
  msg: string;
}

function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').catch(
    () => undefined,
  );
  return text === undefined ? undefined : Number.parseInt(text, 10);
}

/** Listens on the port so that nobody else can; undefined when someone already does. */
function holdPort(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
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

/**
 * Starts the embedded server from a separate Node process that stands in for another run of the app;
 * SIGKILL on it leaves its server orphaned, as a crash or `kill -9` would.
 */
async function startInAnotherProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { pino } = await import('pino');
       const { startEmbeddedPostgres } = await import(${JSON.stringify(MODULE)});
       const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, logger: pino({ level: 'silent' }) });
       console.log('READY ' + pg.url);
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

describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  const handles: EmbeddedPostgresHandle[] = [];
  const children: ChildProcess[] = [];
  const leftoverPids: number[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'stockstreamer-pg-'));
    // mkdtemp makes the directory 0700; as root the server runs as "postgres", which must be able to enter it.
    await chmod(dataDir, 0o755);
  });

  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.stop();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const pid of leftoverPids.splice(0)) {
      if (await isRunning(pid)) process.kill(pid, 'SIGQUIT');
      // Removing the directory under a server that is still exiting would race with its last writes.
      for (let i = 0; i < 100 && (await isRunning(pid)); i++) await new Promise((r) => setTimeout(r, 100));
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('initialises a cluster once, serves the stockstreamer database, and keeps data across restarts', async () => {
    const first = captureLogger();
    const started = await startEmbeddedPostgres({ dataDir, logger: first.logger });
    handles.push(started);

    expect(started.url).toMatch(/^postgres:\/\/[^:]+:[^@]+@127\.0\.0\.1:\d+\/stockstreamer$/);
    expect(await query(started.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    const [settings] = await query<{ db: string; encoding: string; listen: string }>(
      started.url,
      "SELECT current_database() AS db, current_setting('server_encoding') AS encoding, " +
        "current_setting('listen_addresses') AS listen",
    );
    expect(settings).toEqual({ db: 'stockstreamer', encoding: 'UTF8', listen: '127.0.0.1' });
    await query(started.url, 'CREATE TABLE kept (id int PRIMARY KEY, note text)');
    await query(started.url, "INSERT INTO kept VALUES (1, 'still here')");
    expect(first.lines.map((l) => l.msg)).toContainEqual(
      expect.stringMatching(/^initialising a new PostgreSQL/),
    );

    await started.stop();
    await started.stop(); // idempotent
    await expect(query(started.url, 'SELECT 1')).rejects.toThrow();

    // The port is chosen afresh on every start: with 54329 taken, the same data is served on another one.
    const blocker = await holdPort(54329);
    const second = captureLogger();
    const restarted = await startEmbeddedPostgres({ dataDir, logger: second.logger }).finally(() =>
      blocker?.close(),
    );
    handles.push(restarted);
    expect(new URL(restarted.url).port).not.toBe('54329');
    expect(await query(restarted.url, 'SELECT id, note FROM kept')).toEqual([{ id: 1, note: 'still here' }]);
    expect(second.lines.map((l) => l.msg)).not.toContainEqual(expect.stringMatching(/^initialising/));
    expect(second.lines.map((l) => l.msg)).toContain('embedded PostgreSQL started');
  });

  it('takes over the data directory from a previous run that was killed', async () => {
    const { child, url: oldUrl } = await startInAnotherProcess(dataDir);
    children.push(child);
    const orphan = await postmasterPid(dataDir);
    expect(orphan).toBeGreaterThan(0);
    leftoverPids.push(orphan!);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await isRunning(orphan!)).toBe(true);
    expect(await query(oldUrl, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);

    const { logger, lines } = captureLogger();
    const started = await startEmbeddedPostgres({ dataDir, logger });
    handles.push(started);

    expect(await isRunning(orphan!)).toBe(false);
    expect(await query(started.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(lines.map((l) => l.msg)).toContainEqual(expect.stringMatching(/left running by a previous run/));
  });

  it('refuses a data directory whose server belongs to another live process', async () => {
    const { child, url: otherUrl } = await startInAnotherProcess(dataDir);
    children.push(child);
    const otherPid = (await postmasterPid(dataDir))!;
    leftoverPids.push(otherPid);

    const attempt = startEmbeddedPostgres({ dataDir, logger: pino({ level: 'silent' }) });

    await expect(attempt).rejects.toMatchObject({
      name: 'EmbeddedPostgresError',
      message: expect.stringContaining(`is in use by PostgreSQL (pid ${otherPid})`),
    });
    expect(await query(otherUrl, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it.skipIf(!asRoot)('names the directory the postgres account cannot enter, and the fix', async () => {
    const locked = path.join(dataDir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o700); // chmod, not mkdir's mode, which the umask could only narrow further

    const attempt = startEmbeddedPostgres({
      dataDir: path.join(locked, 'data'),
      logger: pino({ level: 'silent' }),
    });

    await expect(attempt).rejects.toMatchObject({
      name: 'EmbeddedPostgresError',
      message: expect.stringContaining(`cannot enter ${locked} (mode 700`),
    });
    await expect(attempt).rejects.toThrow(`chmod o+x ${locked}`);
  });
});
