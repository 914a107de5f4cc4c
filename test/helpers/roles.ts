import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SYMBOLS } from '../../src/domain/symbols.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A temporary folder for one case (servers' data, logs), traversable by the postgres account. */
export async function caseDir(name: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `stockstreamer-faults-${name}-`));
  await chmod(dir, 0o755);
  return {
    dir,
    // Kept when FAULTS_KEEP is set, to read the logs of a failed run.
    remove: () => (process.env.FAULTS_KEEP ? Promise.resolve() : rm(dir, { recursive: true, force: true })),
  };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface RoleProcess {
  readonly role: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the banner says the role is running; rejects if the process exits first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<Exit>;
  readonly exit: Exit | undefined;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs the process if it still runs; for clean-up after a failed test. */
  dispose(): Promise<void>;
}

/**
 * Runs `node bin/stockstreamer.js <role>` as the product runs, with exactly the given environment (plus PATH
 * and HOME), its output appended to `logFile`.
 */
export function spawnRole(role: string, env: Record<string, string>, logFile: string): RoleProcess {
  const child: ChildProcess = spawn(process.execPath, ['bin/stockstreamer.js', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: Date.now() };
      resolve(exit);
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    const banner = `stockstreamer ${role} is running`;
    let tail = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString();
      if (text.includes(banner)) resolve();
      tail = text.slice(-200);
    });
    void exited.then((e) =>
      reject(
        new Error(
          `${role} (pid ${child.pid}) exited before it was ready: ${JSON.stringify(e)}; see ${logFile}`,
        ),
      ),
    );
  });
  ready.catch(() => {});
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  void exited.then(() => setTimeout(() => log.end(), 100));
  return {
    role,
    pid: child.pid ?? -1,
    logFile,
    ready,
    exited,
    get exit() {
      return exit;
    },
    signal(signal) {
      if (!exit) child.kill(signal);
    },
    async dispose() {
      if (exit) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The fault suite's: short, so that a case sees many slots in little time; its figures are in slots. */
export const INTERVAL_MS = 1000;
export const SEED = 'fault-suite';
export const SYMBOLS = DEFAULT_SYMBOLS;

/**
 * The environment of a role process the fault suite or a bench starts: its database, Redis and prefix
 * (`where`), the fault suite's short interval and seed, its data under `dir`, and `extra` over all of it.
 */
export function roleEnv(
  where: Record<string, string>,
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...where,
    PRICE_INTERVAL_MS: String(INTERVAL_MS),
    LOGO_INTERVAL_MS: '3600000',
    HIGHLOW_INTERVAL_MS: '3600000',
    SIMULATED_SEED: SEED,
    SYMBOLS: SYMBOLS.join(','),
    LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'info',
    DATA_DIR: path.join(dir, 'data'),
    HOST: '127.0.0.1',
    PORT: '0',
    // The live pipeline alone: the history fill and its gap repair (tested on their own) would store ticks
    // no slot asked for, unpublished, into the seconds a case counts; at this 1 s interval a 7-day fill is
    // 3.6 M rows, which also takes the two cores from the slots being measured.
    BACKFILL_DAYS: '0',
    ...extra,
  };
}
