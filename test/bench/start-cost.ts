/**
 * What a start costs: launches a command that runs one role N times against the shared Redis and Postgres
 * and reports, as medians, the time from spawn to the "is running" banner, the CPU time the process spent
 * to get there (steadier than the wall time on a shared machine), and its resident memory once it is
 * ready and has settled for 2 s. Not part of `npm test` (it measures, it does not check).
 *
 *   npx tsx test/bench/start-cost.ts [runs] -- <command…>     e.g. … 7 -- node bin/stockstreamer.js api
 *
 * The command gets DATABASE_URL/REDIS_URL from TEST_POSTGRES_URL/TEST_REDIS_URL (a fresh database), PORT=0
 * and a private QUEUE_PREFIX, so runs do not meet the shared services' other users.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const separator = process.argv.indexOf('--');
if (separator < 0 || separator === process.argv.length - 1) {
  process.stderr.write('usage: start-cost.ts [runs] -- <command…>\n');
  process.exit(2);
}
const runs = Number(process.argv[2] === '--' ? 7 : process.argv[2]);
const command = process.argv.slice(separator + 1);
const role = command.at(-1) ?? 'start';

const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `start_cost_${process.pid}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

/** The process tree's RSS: a role may run a child (tsx's loader does not, npm would). */
async function treeResidentBytes(pid: number): Promise<number> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  let total = await residentBytes(pid);
  for (const child of children.split(' ').filter(Boolean)) total += await treeResidentBytes(Number(child));
  return total;
}

/** user + system CPU of a process so far, from /proc (clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const readyMs: number[] = [];
const readyCpuMs: number[] = [];
const rss: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const began = performance.now();
    const child = spawn(command[0]!, command.slice(1), {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        DATABASE_URL: url.toString(),
        REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: `start-cost-${process.pid}`,
        PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes(`stockstreamer ${role} is running`)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}: ${text}`)));
    });
    readyMs.push(performance.now() - began);
    readyCpuMs.push(await cpuMs(child.pid!));
    await sleep(2000);
    rss.push(await treeResidentBytes(child.pid!));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const list = (values: number[], scale = 1) => values.map((v) => (v / scale).toFixed(0)).join(', ');
const version = spawnSync(command[0]!, ['--version'], { encoding: 'utf8' }).stdout.trim();
process.stdout.write(
  `${command.join(' ')} (${version || '?'}, ${runs} runs), medians:\n` +
    `  ready in ${median(readyMs).toFixed(0)} ms [${list(readyMs)}]\n` +
    `  CPU to ready ${median(readyCpuMs)} ms [${list(readyCpuMs)}]\n` +
    `  RSS ${(median(rss) / 2 ** 20).toFixed(1)} MiB [${list(rss, 2 ** 20)}]\n`,
);
