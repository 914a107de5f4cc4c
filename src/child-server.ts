import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { outcomeWithin } from './deadline.ts';

const execFileAsync = promisify(execFile);

/** How a child ended: its exit code or the signal that ended it, or the error that kept it from starting. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface ChildServerOptions {
  /** What it is, for log lines: "embedded PostgreSQL", "private redis-server", "worker process". */
  name: string;
  command: string;
  args: readonly string[];
  logger: Logger;
  /** uid/gid, env, cwd and stdio; `detached` is always set. */
  spawn?: Omit<SpawnOptions, 'detached'>;
  /** Asks for a clean stop (PostgreSQL: SIGINT, a fast shutdown; Redis and our worker: SIGTERM). */
  stopSignal: NodeJS.Signals;
  /** Sent when the clean stop has not ended it within `stopTimeoutMs` (SIGQUIT, SIGKILL). */
  escalationSignal: NodeJS.Signals;
  stopTimeoutMs: number;
}

export interface ChildServer {
  readonly pid: number | undefined;
  readonly process: ChildProcess;
  /** Settles once the process is gone (or could not be started); never rejects. */
  readonly exited: Promise<ChildExit>;
  /** Whether it has not exited yet. */
  running(): boolean;
  /**
   * From now on an exit nobody asked for is a fault: it is logged as an error and `listener` is called.
   * Before this (while the caller waits for readiness) an exit is the caller's to report.
   */
  watch(listener?: (exit: ChildExit) => void): void;
  /** Sends `stopSignal`, then `escalationSignal` after `stopTimeoutMs`, and waits for the exit. Idempotent. */
  stop(): Promise<ChildExit>;
}

/**
 * Runs a server process this one owns and must stop last: the embedded PostgreSQL, a private Redis, the
 * worker process of `stockstreamer start`. The one place that knows how such a child is supervised:
 *
 * - It gets its own process group (`detached`), so the SIGINT a terminal sends to its foreground group
 *   on Ctrl+C reaches only us, and we stop the child when what uses it has finished, not under it.
 * - If this process exits without stopping it (a crash, `process.exit`), a synchronous 'exit' hook sends
 *   it `stopSignal` on the way out; only SIGKILL leaves it running (the next start takes it over).
 * - Stopping is bounded: a child that ignores its stop signal gets the escalation.
 */
export function startChildServer(options: ChildServerOptions): ChildServer {
  const { name, logger } = options;
  const child = spawn(options.command, [...options.args], { ...options.spawn, detached: true });
  let exit: ChildExit | undefined;
  let stopRequested = false;
  let watcher: ((exit: ChildExit) => void) | undefined;
  let watching = false;

  const exited = new Promise<ChildExit>((resolve) => {
    // A binary that cannot be executed reports 'error' and never 'exit'.
    child.once('error', (error) => {
      exit ??= { code: null, signal: null, error };
      resolve(exit);
    });
    child.once('exit', (code, signal) => {
      exit ??= { code, signal };
      resolve(exit);
    });
  });

  // Synchronous on purpose: 'exit' listeners cannot wait.
  const stopOnExit = () => {
    if (!exit) child.kill(options.stopSignal);
  };
  process.on('exit', stopOnExit);
  void exited.then((status) => {
    process.off('exit', stopOnExit);
    if (watching && !stopRequested) {
      logger.error({ ...describeExit(status), pid: child.pid }, `${name} exited unexpectedly`);
      watcher?.(status);
    }
  });

  let stopping: Promise<ChildExit> | undefined;
  return {
    pid: child.pid,
    process: child,
    exited,
    running: () => exit === undefined,
    watch(listener) {
      watching = true;
      watcher = listener;
    },
    stop() {
      stopping ??= (async () => {
        stopRequested = true;
        if (exit) return exit;
        child.kill(options.stopSignal);
        if ((await outcomeWithin(exited, options.stopTimeoutMs)) === 'timeout') {
          logger.warn(
            { pid: child.pid, signal: options.escalationSignal, afterMs: options.stopTimeoutMs },
            `${name} did not stop in time; sending ${options.escalationSignal}`,
          );
          child.kill(options.escalationSignal);
        }
        return exited;
      })();
      return stopping;
    },
  };
}

function describeExit(exit: ChildExit): Record<string, unknown> {
  return exit.error ? { error: exit.error.message } : { code: exit.code, signal: exit.signal };
}

/** What we need to know about a PID to tell our own leftovers from a PID that was reused. */
export interface ProcessInfo {
  ppid: number;
  zombie: boolean;
  /** The command line, arguments joined by spaces. */
  command: string;
  /** Known on Linux only. */
  cwd: string | undefined;
}

export async function inspectProcess(pid: number): Promise<ProcessInfo | undefined> {
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

/** The program name of a command line, without its directory. */
export function programOf(info: ProcessInfo): string {
  return path.basename(info.command.split(' ')[0] ?? '');
}

/**
 * What a PID found in a server's pid file is: gone (or a PID reused by something else), a server that
 * another live run of ours still owns (its parent is a Node process), or an orphan a killed run left behind.
 */
export async function classifyLeftover(
  pid: number,
  isOurServer: (info: ProcessInfo) => boolean,
): Promise<{ kind: 'none' } | { kind: 'owned'; ppid: number } | { kind: 'orphan' }> {
  const info = Number.isInteger(pid) && pid > 0 ? await inspectProcess(pid) : undefined;
  if (!info || info.zombie || !isOurServer(info)) return { kind: 'none' };
  const parent = info.ppid > 1 ? await inspectProcess(info.ppid) : undefined;
  if (parent && !parent.zombie && /^node/.test(programOf(parent))) return { kind: 'owned', ppid: info.ppid };
  return { kind: 'orphan' };
}

/** Sends `signal` to a process we do not hold as a child and waits until it is gone; false on timeout. */
export async function stopOrphan(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  process.kill(pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const info = await inspectProcess(pid);
    // A zombie has finished; whether its new parent reaps it is not our concern.
    if (!info || info.zombie) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** A port free on `host` right now (another program may take it before the caller binds it). */
export function anyFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
