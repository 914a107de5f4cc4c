import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { answersPing, redisServerArgs, waitFor } from './servers.ts';

export const SENTINEL_MASTER = 'stockstreamer';

/** One redis-server (data node or sentinel) of the topology, restartable on its port. */
interface Node {
  readonly port: number;
  readonly running: boolean;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export interface SentinelRedis {
  /** `host:port,…` of the three sentinels: the app's REDIS_SENTINELS. */
  readonly sentinels: string;
  readonly masterName: string;
  /** The port the sentinels name as the primary now. */
  primaryPort(): Promise<number>;
  /** A plain client of the data node on `port` (for the test's own checks). */
  nodeUrl(port: number): string;
  /**
   * kill -9 of the primary (a crashed host), then waits until the sentinels have promoted the replica;
   * the old primary is started again at once and they turn it into the new primary's replica, so the next
   * failover has somewhere to go. `whilePrimaryDown` runs between the kill and the promotion. Resolves
   * with the new primary's port.
   */
  failOver(options?: { whilePrimaryDown?: () => Promise<void> }): Promise<number>;
  dispose(): Promise<void>;
}

function redisNode(args: () => string[], port: number, logName: string): Node {
  let child: ChildProcess | undefined;
  return {
    port,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      const started = spawn('redis-server', args(), { stdio: 'ignore' });
      child = started;
      started.once('exit', () => {
        if (child === started) child = undefined;
      });
      await waitFor(`${logName} on port ${port}`, () => answersPing(`redis://127.0.0.1:${port}`), 10_000, 20);
    },
    async kill() {
      const current = child;
      if (!current) return;
      const exited = once(current, 'exit');
      current.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A primary, a replica and three sentinels (quorum 2) of this test's own on free loopback ports, as a
 * production Sentinel deployment is laid out, with a short `down-after-milliseconds` (1 s) so that a test
 * sees a failover within seconds. Data nodes run append-only with `noeviction` and hz 100, as ops/ ships.
 */
export async function createSentinelRedis(dir: string): Promise<SentinelRedis> {
  await mkdir(dir, { recursive: true });
  const dataPorts = [await freePort(), await freePort()];
  const dataArgs = (port: number, replicaOf?: number) => () => [
    ...redisServerArgs(port, path.join(dir, `redis-${port}`)),
    ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
  ];
  for (const port of dataPorts) await mkdir(path.join(dir, `redis-${port}`), { recursive: true });
  const [firstPrimary, firstReplica] = dataPorts as [number, number];
  const data = new Map<number, Node>([
    [firstPrimary, redisNode(dataArgs(firstPrimary), firstPrimary, 'primary')],
    [firstReplica, redisNode(dataArgs(firstReplica, firstPrimary), firstReplica, 'replica')],
  ]);
  const sentinels: Node[] = [];
  try {
    for (const node of data.values()) await node.start();
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const sentinelDir = path.join(dir, `sentinel-${port}`);
      await mkdir(sentinelDir, { recursive: true });
      const conf = path.join(sentinelDir, 'sentinel.conf');
      // Sentinel rewrites its config file with what it learns (replicas, other sentinels, the epoch).
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${sentinelDir}`,
          `logfile ${path.join(sentinelDir, 'sentinel.log')}`,
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${firstPrimary} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
          '',
        ].join('\n'),
      );
      const node = redisNode(() => [conf, '--sentinel'], port, 'sentinel');
      sentinels.push(node);
      await node.start();
    }
  } catch (error) {
    for (const node of [...data.values(), ...sentinels]) await node.kill();
    throw error;
  }

  const askSentinels = async (): Promise<number | undefined> => {
    const answers = await Promise.all(
      sentinels.map(async (node) => {
        const client = new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
        client.on('error', () => {});
        try {
          const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER)) as
            | [string, string]
            | null;
          return reply ? Number(reply[1]) : undefined;
        } catch {
          return undefined;
        } finally {
          client.disconnect();
        }
      }),
    );
    // The primary is settled when every sentinel names the same one.
    return answers.every((port) => port !== undefined && port === answers[0]) ? answers[0] : undefined;
  };
  // Replication must be up before a failover has a replica to promote.
  const replicaInSync = async (primary: number) => {
    const client = new Redis({ port: primary, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      return /connected_slaves:1/.test(await client.info('replication'));
    } finally {
      client.disconnect();
    }
  };
  await waitFor(
    'the replica to sync and the sentinels to agree',
    async () => {
      const primary = await askSentinels();
      return primary === firstPrimary && (await replicaInSync(primary));
    },
    30_000,
  );

  const primaryPort = async () => {
    const port = await askSentinels();
    if (port === undefined) throw new Error('the sentinels do not agree on a primary');
    return port;
  };
  return {
    sentinels: sentinels.map((node) => `127.0.0.1:${node.port}`).join(','),
    masterName: SENTINEL_MASTER,
    primaryPort,
    nodeUrl: (port) => `redis://127.0.0.1:${port}`,
    async failOver(options = {}) {
      const old = await primaryPort();
      await waitFor('the replica to be in sync before the failover', () => replicaInSync(old), 30_000);
      await data.get(old)!.kill();
      await options.whilePrimaryDown?.();
      let promoted: number | undefined;
      await waitFor(
        'the sentinels to promote the replica',
        async () => {
          const port = await askSentinels();
          if (port === undefined || port === old) return false;
          promoted = port;
          return true;
        },
        30_000,
      );
      // Back as the replica of the new primary: the sentinels reconfigure it when it reappears.
      data.set(old, redisNode(dataArgs(old, promoted), old, 'old primary'));
      await data.get(old)!.start();
      return promoted!;
    },
    async dispose() {
      for (const node of [...sentinels, ...data.values()]) await node.kill();
    },
  };
}
