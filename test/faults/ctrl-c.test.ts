import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { caseDir } from '../helpers/roles.ts';
import { sleep, waitFor } from '../helpers/servers.ts';
import { removeRedisPrefix, TEST_REDIS_URL, uniqueName } from '../helpers/services.ts';
import { recordRow } from './helpers/report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every live process whose chain of parents reaches `root` (detached children keep their parent). */
async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z') parents.set(Number(entry), Number(fields[1]));
  }
  const found: number[] = [];
  for (const pid of parents.keys()) {
    for (let up = parents.get(pid); up !== undefined && up > 1; up = parents.get(up)) {
      if (up === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Case 5: Ctrl+C in the terminal that ran `npm start`. The terminal sends SIGINT to its whole foreground
 * process group: npm, the app, and whatever the app started there. npm forwards the SIGINT it got to the
 * app as well, so the app sees it twice.
 *
 * Expected: one graceful stop, exit code 0, no FATAL from PostgreSQL (it must not get the SIGINT under the
 * workers), no "second signal", and no process of the run left behind: app, worker process, embedded
 * PostgreSQL and its backends all gone.
 */
describe('fault: Ctrl+C under npm start', () => {
  let child: ChildProcess | undefined;
  let folder: Awaited<ReturnType<typeof caseDir>> | undefined;
  const prefix = uniqueName('ctrlc');
  afterEach(async (context) => {
    if (child?.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    await removeRedisPrefix(prefix);
    if (context.task.result?.state === 'fail') console.log(`ctrl-c case: logs kept in ${folder?.dir}`);
    else await folder?.remove();
  });

  it('5: SIGINT to the whole process group exits 0 with nothing stray', async () => {
    folder = await caseDir('ctrl-c');
    let output = '';
    // Its own session and group, as a terminal gives the job it runs in the foreground.
    child = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        DATA_DIR: path.join(folder.dir, 'data'),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        PORT: '0',
        PRICE_INTERVAL_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await waitFor('the start banner', () => output.includes('stockstreamer start is running'), 120_000);
    // Price jobs done by the worker process, so that it runs and its stop has something to finish.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await waitFor(
        'two completed price jobs',
        async () => (await redis.zcard(`${prefix}:prices:completed`)) >= 2,
        30_000,
      );
    } finally {
      redis.disconnect();
    }
    const before = await descendants(child.pid!);
    const workerPid = Number(/worker process (\d+)\)/.exec(output)?.[1]);
    expect(before).toContain(workerPid);

    const sentAt = Date.now();
    process.kill(-child.pid!, 'SIGINT');
    const exit = await exited;
    const stopMs = Date.now() - sentAt;
    // Anything left behind would still be running a moment later: a detached child outlives its parent.
    await sleep(500);
    const leftover = before.filter(alive);

    recordRow({
      case: '5 Ctrl+C under npm start (SIGINT to the group)',
      resume: `stopped in ${stopMs} ms`,
      exitCodes: `npm:${exit.code ?? exit.signal}`,
      notes: `${before.length} processes before (app, worker, PostgreSQL and its backends), ${leftover.length} after`,
    });

    expect(exit).toEqual({ code: 0, signal: null });
    expect(output).not.toMatch(/FATAL|second signal|exited unexpectedly|secretKey/);
    expect(output).toMatch(/"msg":"stopped"/);
    expect(output).toMatch(/embedded PostgreSQL stopped/);
    expect(leftover).toEqual([]);
  });
});
