import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTickPubSub } from '../graphql/pubsub.ts';
import { createGraphqlServer } from '../graphql/yoga.ts';
import { closeQueues, createQueues } from '../jobs/queues.ts';
import { queueMissingRefresh, type RunningWorkers, startWorkers } from '../jobs/workers.ts';
import type { Config } from './config.ts';
import { runMigrations } from './db/migrate.ts';
import { createDeps, type Deps, type DepsOverrides } from './deps.ts';
import { buildApp } from './server/app.ts';
import { createHealthCheck } from './server/health.ts';
import { createAdminAuth } from './server/security.ts';
import { ticksChannel } from './tick-channel.ts';

/** Which parts run in this process: the API, the workers, or both (the newcomer's default). */
export type Role = 'start' | 'api' | 'worker';

export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/web');

export interface Running {
  deps: Deps;
  /** Base URL of the HTTP server, for the api and start roles. */
  url: string | undefined;
  workers: RunningWorkers | undefined;
  /** Stops HTTP, then workers, then clients and child servers. Idempotent. */
  close(): Promise<void>;
}

/**
 * The top of the composition: builds Deps once, migrates and seeds, then starts what the role asks for.
 * This is the only module that ties src/, jobs/ and graphql/ together.
 */
export async function startRole(role: Role, config: Config, overrides: DepsOverrides = {}): Promise<Running> {
  const deps = await createDeps(config, overrides);
  const stops: (() => Promise<void>)[] = [deps.close];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      await stop().catch((error: unknown) => deps.logger.warn({ err: error }, 'error while stopping'));
    }
    stops.length = 0;
  };

  try {
    await runMigrations(deps.databaseUrl);
    await deps.watchlist.seed(config.symbols);

    let workers: RunningWorkers | undefined;
    if (role === 'start' || role === 'worker') {
      workers = await startWorkers(deps);
      stops.push(workers.close);
    }

    let url: string | undefined;
    if (role === 'start' || role === 'api') {
      const server = await startApi(deps);
      stops.push(server.close);
      url = server.url;
    }

    let closing: Promise<void> | undefined;
    return {
      deps,
      url,
      workers,
      close: () => {
        closing ??= stopAll();
        return closing;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function startApi(deps: Deps): Promise<{ url: string; close(): Promise<void> }> {
  const { config } = deps;
  const queues = createQueues(deps.createRedis('bull-board'), config.queuePrefix);
  const adminAuth = createAdminAuth(config);
  const pubSub = createTickPubSub({
    publishClient: deps.redis,
    subscribeClient: deps.createRedis('ticks-subscriber'),
  });
  const { yoga, subscriptions } = createGraphqlServer({
    logger: deps.logger,
    watchlist: deps.watchlist,
    ticks: deps.ticks,
    pubSub,
    ticksTopic: ticksChannel(config.queuePrefix),
    now: () => deps.clock.now(),
    adminMode: adminAuth.mode,
    allowedOrigins: config.security.allowedOrigins,
    onWatchlistChanged: () => queueMissingRefresh(deps, queues),
  });
  // A health probe must answer "down" at once during an outage, not queue the PING until Redis is back.
  const healthRedis = deps.createRedis('health', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const app = buildApp({
    logger: deps.logger,
    graphql: yoga,
    subscriptions,
    security: config.security,
    adminAuth,
    health: createHealthCheck({ pool: deps.database.pool, redis: healthRedis }),
    queues: Object.values(queues),
    webRoot: WEB_ROOT,
  });

  const server: Server = app.listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      // Subscription streams never end by themselves: end each with a GraphQL `complete` first, so clients
      // see a clean end rather than a reset, then close idle and remaining sockets so close() can finish.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await subscriptions.closeAll();
      server.closeIdleConnections();
      server.closeAllConnections();
      await closed;
      await closeQueues(queues);
    },
  };
}
