import type { Logger } from 'pino';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { type ChildExit, type ChildServer, startChildServer } from './child-server.ts';

/** How to run this program's `worker` role as a child: the same binary, with the same loader flags. */
export interface WorkerCommand {
  command: string;
  /** Everything before the role, e.g. `[...process.execArgv, process.argv[1]]`. */
  args: readonly string[];
  /** The environment the child starts from (the parent's), before the resolved backends are set in it. */
  env: Readonly<Record<string, string | undefined>>;
}

/** The message a supervised worker sends its parent over IPC once its workers run. */
export const WORKER_READY_MESSAGE = 'stockstreamer:worker-ready';

/** Asks a supervised worker for its metrics; it answers with {@link WorkerMetricsReply}. */
export interface WorkerMetricsRequest {
  type: 'stockstreamer:metrics?';
  id: number;
}
export interface WorkerMetricsReply {
  type: 'stockstreamer:metrics';
  id: number;
  metrics: MetricObjectWithValues<MetricValue<string>>[];
}
export type WorkerMetrics = WorkerMetricsReply['metrics'];

/** How long a scrape waits for the worker process's series (it may be restarting): then it goes without. */
const METRICS_TIMEOUT_MS = 1000;

/** What `stockstreamer worker --supervised` is told on its command line. */
export const SUPERVISED_FLAG = '--supervised';

/**
 * A stopping worker takes up to WORKER_GRACE_MS (src/start.ts) for its jobs, then closes its clients; past
 * this it is killed, which leaves its jobs to BullMQ's stalled-job recovery. Inside the 10 s of a stop.
 */
const WORKER_STOP_TIMEOUT_MS = 9000;
/** Restart delays after unexpected exits: doubling from the first to the last, reset by a long run. */
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;
const STABLE_RUN_MS = 60_000;

export interface SupervisedWorker {
  /** The current child's PID (it changes when the child is restarted). */
  pid(): number | undefined;
  /** The child's metrics (prom-client's JSON form), asked over IPC; none when it does not answer in time. */
  metrics(): Promise<WorkerMetrics>;
  /** Stops restarting, asks the child to stop (SIGTERM: its jobs finish or go back), waits for it. */
  stop(): Promise<void>;
}

/**
 * Runs the `worker` role in a child process and keeps it running: `stockstreamer start` serves HTTP on its
 * own event loop and leaves the price jobs to this child, so no request, however expensive, can delay a
 * price slot. The child reaches the same PostgreSQL and Redis the parent resolved (an embedded server, a
 * private Redis), is in its own process group like every child server, and is restarted when it dies
 * unexpectedly. Resolves once the child says its workers run; rejects if its first start fails.
 */
export async function startWorkerProcess(options: {
  command: WorkerCommand;
  databaseUrl: string;
  /** The Redis the parent resolved; undefined under Sentinel, whose variables the child inherits. */
  redisUrl: string | undefined;
  logger: Logger;
}): Promise<SupervisedWorker> {
  const { command, logger } = options;
  let current: ChildServer | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let nextDelay = RESTART_FIRST_MS;

  const spawnOnce = async (): Promise<ChildServer> => {
    const child = startChildServer({
      name: 'worker process',
      command: command.command,
      args: [...command.args, 'worker', SUPERVISED_FLAG],
      logger,
      spawn: {
        // Its log lines go where ours go; the IPC channel carries readiness, and its closing tells the child
        // that we are gone (killed), so it stops rather than running on unsupervised.
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: {
          ...command.env,
          DATABASE_URL: options.databaseUrl,
          REDIS_URL: options.redisUrl,
          // The parent serves /metrics for both (the child's series join its own): one port, one process.
          METRICS_PORT: undefined,
        },
      },
      stopSignal: 'SIGTERM',
      escalationSignal: 'SIGKILL',
      stopTimeoutMs: WORKER_STOP_TIMEOUT_MS,
    });
    const ready = await new Promise<boolean>((resolve) => {
      child.process.on('message', (message) => {
        if (message === WORKER_READY_MESSAGE) resolve(true);
      });
      void child.exited.then(() => resolve(false));
    });
    if (!ready) {
      const exit = await child.exited;
      throw new Error(
        `the worker process exited before it was ready (${describe(exit)}); its log lines are above`,
      );
    }
    return child;
  };

  let restarting: Promise<void> | undefined;
  const scheduleRestart = () => {
    if (stopping) return;
    const delay = nextDelay;
    nextDelay = Math.min(RESTART_MAX_MS, nextDelay * 2);
    logger.warn({ inMs: delay }, 'restarting the worker process');
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      restarting = spawnOnce().then(
        (next) => {
          current = next;
          supervise(next);
          logger.info({ pid: next.pid }, 'worker process running again');
        },
        (error: unknown) => {
          logger.error({ err: error }, 'the worker process could not be restarted');
          scheduleRestart();
        },
      );
    }, delay);
  };

  const supervise = (child: ChildServer) => {
    const startedAt = Date.now();
    child.watch(() => {
      if (Date.now() - startedAt >= STABLE_RUN_MS) nextDelay = RESTART_FIRST_MS;
      scheduleRestart();
    });
  };

  current = await spawnOnce();
  supervise(current);
  let lastRequest = 0;
  return {
    pid: () => current?.pid,
    metrics() {
      const child = current;
      if (!child?.running() || !child.process.connected) return Promise.resolve([]);
      const id = ++lastRequest;
      return new Promise<WorkerMetrics>((resolve) => {
        const onMessage = (message: unknown) => {
          const reply = message as Partial<WorkerMetricsReply> | undefined;
          if (reply?.type !== 'stockstreamer:metrics' || reply.id !== id) return;
          finish(reply.metrics ?? []);
        };
        const timer = setTimeout(() => finish([]), METRICS_TIMEOUT_MS);
        const finish = (metrics: WorkerMetrics) => {
          clearTimeout(timer);
          child.process.off('message', onMessage);
          resolve(metrics);
        };
        child.process.on('message', onMessage);
        const request: WorkerMetricsRequest = { type: 'stockstreamer:metrics?', id };
        child.process.send(request, (error) => {
          if (error) finish([]);
        });
      });
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      // A restart under way finishes first, so that the child it starts is the one stopped.
      await restarting;
      await current?.stop();
    },
  };
}

function describe(exit: ChildExit): string {
  if (exit.error) return exit.error.message;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
