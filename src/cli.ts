import os from 'node:os';
import { parseArgs } from 'node:util';
import { banner, COMMANDS, commandHelp, USAGE } from './cli-text.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import {
  SUPERVISED_FLAG,
  WORKER_READY_MESSAGE,
  type WorkerMetricsReply,
  type WorkerMetricsRequest,
} from './worker-process.ts';

/** What systemd's TimeoutStopSec and the issue ask for: a stop takes at most 10 s. */
const SHUTDOWN_DEADLINE_MS = 10_000;
/**
 * One Ctrl+C under `npm start` arrives twice: the terminal sends SIGINT to its whole foreground group, and
 * npm, which is in that group too, forwards the one it got to its child. The same signal again within this
 * window is that echo, not a user asking to exit at once.
 */
const SIGNAL_ECHO_MS = 300;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      symbol: { type: 'string' },
      [SUPERVISED_FLAG.slice(2)]: { type: 'boolean' },
    },
  });
  const command = positionals[0];
  if (command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 1 : 0;
  }
  if (!(command in COMMANDS)) {
    process.stderr.write(
      `Unknown command "${command}". Wanted one of: ${Object.keys(COMMANDS).join(', ')}.\n\n`,
    );
    process.stderr.write(USAGE);
    return 2;
  }
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stockstreamer: ${error.message}\n`);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  if (command === 'check-config') return 0;
  if (command === 'providers') {
    if (positionals[1] !== 'check') {
      process.stderr.write(
        'Unknown providers subcommand. Wanted: stockstreamer providers check [--symbol TICKER]\n',
      );
      return 2;
    }
    const { runProvidersCheck } = await import('./providers/check.ts');
    return runProvidersCheck(
      config,
      typeof values.symbol === 'string' ? values.symbol : undefined,
      process.stdout,
    );
  }

  const logger = createLogger(config.logLevel);
  // A stray rejection or throw is a bug to log, not a reason to stop fetching prices for everyone: every
  // piece of state that matters is in Redis and Postgres, and each job and request stands alone.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  process.on('uncaughtException', (error, origin) =>
    logger.error({ err: error, origin }, 'uncaught exception'),
  );

  if (command === 'migrate') {
    const [{ startEmbeddedPostgres }, { runMigrations }] = await Promise.all([
      import('./db/embedded.ts'),
      import('./db/migrate.ts'),
    ]);
    const embedded = config.database.url
      ? undefined
      : await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
    try {
      await runMigrations(config.database.url ?? embedded!.url);
      logger.info('migrations applied');
    } finally {
      await embedded?.stop();
    }
    return 0;
  }

  // A worker started by `stockstreamer start` (src/worker-process.ts): it reports readiness over IPC, and
  // stops when its parent is gone, however the parent went.
  const supervised = command === 'worker' && values[SUPERVISED_FLAG.slice(2)] === true && !!process.send;
  const { startRole } = await import('./start.ts');
  const started = Date.now();
  const stopped = stopSignals(logger, supervised);
  const running = await startRole(command as 'start' | 'api' | 'worker', config, {
    logger,
    // The same binary, run the way this one was run (tsx's loader flags, or none for compiled code).
    workerProcess: {
      command: process.execPath,
      args: [...process.execArgv, process.argv[1]!],
      env: process.env,
    },
  });
  if (supervised) {
    // The parent's /metrics carries our series too: it asks for them at each scrape.
    process.on('message', (message: Partial<WorkerMetricsRequest> | undefined) => {
      if (message?.type !== 'stockstreamer:metrics?' || typeof message.id !== 'number') return;
      const { id } = message;
      void running.deps.metrics.registry.getMetricsAsJSON().then((metrics) => {
        const reply: WorkerMetricsReply = { type: 'stockstreamer:metrics', id, metrics };
        if (process.connected) process.send!(reply);
      });
    });
    // A parent gone during our start-up has already asked us to stop (its channel closed).
    if (process.connected) process.send!(WORKER_READY_MESSAGE);
  } else {
    const { describeBackends } = await import('./deps.ts');
    const backends = describeBackends(running.deps);
    process.stdout.write(banner({ command, config, running, backends, readyMs: Date.now() - started }));
  }
  return stopped.whenAsked(() => running.close());
}

/**
 * SIGINT (Ctrl+C) and SIGTERM (a supervisor) take the same graceful path: no new jobs or requests, the ones
 * in flight finish or go back to their queue, then exit 0 within 10 s. A second signal exits at once. A
 * supervised worker also stops when its parent's IPC channel closes (the parent was killed).
 */
function stopSignals(logger: ReturnType<typeof createLogger>, supervised: boolean) {
  let first: { signal: string; at: number } | undefined;
  let stop: (() => Promise<void>) | undefined;
  let resolveCode!: (code: number) => void;
  const code = new Promise<number>((resolve) => {
    resolveCode = resolve;
  });
  const begin = () => {
    const began = Date.now();
    logger.info(
      { signal: first!.signal },
      'shutting down: no new jobs or requests; finishing what is in flight',
    );
    // Bounded: a stuck socket or server must not keep a stopping service alive past systemd's patience.
    // The roles budget their own steps well inside this (src/start.ts), so reaching it is a fault.
    setTimeout(() => {
      logger.error('shutdown took over 10 s; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    stop!().then(
      () => {
        logger.info({ ms: Date.now() - began }, 'stopped');
        resolveCode(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        resolveCode(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals | 'disconnect') => {
    const now = Date.now();
    if (first) {
      if (signal === first.signal && now - first.at < SIGNAL_ECHO_MS) {
        logger.debug(
          { signal },
          'the same signal again at once (the terminal and npm both sent it): one stop',
        );
        return;
      }
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(128 + (os.constants.signals[signal === 'disconnect' ? 'SIGTERM' : signal] ?? 1));
    }
    first = { signal, at: now };
    // A signal during start-up stops what has started once it has started.
    if (stop) begin();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (supervised) process.on('disconnect', () => onSignal('disconnect'));
  return {
    whenAsked(close: () => Promise<void>): Promise<number> {
      stop = close;
      if (first) begin();
      return code;
    },
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stockstreamer: ${message}\n`);
    process.exit(1);
  },
);
