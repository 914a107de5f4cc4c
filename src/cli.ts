import os from 'node:os';
import { parseArgs } from 'node:util';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts';
import { startEmbeddedPostgres } from './db/embedded.ts';
import { runMigrations } from './db/migrate.ts';
import { describeBackends } from './deps.ts';
import { createLogger } from './logger.ts';
import { runProvidersCheck } from './providers/check.ts';
import { type Role, startRole } from './start.ts';

/** What systemd's TimeoutStopSec and the issue ask for: a stop takes at most 10 s. */
const SHUTDOWN_DEADLINE_MS = 10_000;

const COMMANDS: Record<string, string> = {
  start: 'Run everything in one process: the API, the chart page, Bull Board and the workers (the default).',
  api: 'Run the HTTP side only: GraphQL (with GraphiQL), the chart page, Bull Board and /healthz.',
  worker: 'Run the BullMQ workers only, and upsert the price, logo and 52-week schedulers.',
  migrate: 'Apply pending database migrations and exit (start, api and worker also do this).',
  providers:
    '"providers check [--symbol AAPL]": fetch a quote, name/logo and 52-week range once from PROVIDER and print what came back and how long each took.',
};

const USAGE = `stockstreamer — a live stock price pipeline and dashboard

Usage: stockstreamer <command> [--help]

Commands:
${Object.entries(COMMANDS)
  .map(([name, text]) => `  ${name.padEnd(9)} ${text}`)
  .join('\n')}

Configuration comes from environment variables (see .env.example and the README):
  ${CONFIG_VARIABLES.join(', ')}
With none set, it runs an embedded PostgreSQL under ./.data, the Redis at 127.0.0.1:6379 (or a private
redis-server), and the offline simulated market.
`;

function commandHelp(command: string): string {
  // Everything after the command list: the configuration paragraph.
  const rest = USAGE.split('\n').slice(5 + Object.keys(COMMANDS).length);
  return `Usage: stockstreamer ${command}\n\n${COMMANDS[command]}\n\n${rest.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, symbol: { type: 'string' } },
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

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stockstreamer: ${error.message}\n`);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  if (command === 'providers') {
    if (positionals[1] !== 'check') {
      process.stderr.write(
        'Unknown providers subcommand. Wanted: stockstreamer providers check [--symbol TICKER]\n',
      );
      return 2;
    }
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

  const started = Date.now();
  const running = await startRole(command as Role, config, { logger });
  const lines = [
    `stockstreamer ${command} is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    ...(running.url
      ? [
          `  chart page  ${running.url}/`,
          `  GraphiQL    ${running.url}/graphql`,
          `  Bull Board  ${running.url}/admin/queues`,
          `  health      ${running.url}/healthz`,
        ]
      : []),
    ...(running.workers
      ? [
          `  workers     ${running.workers.plan?.summary ?? `prices every ${config.schedule.priceIntervalMs} ms for ${config.symbols.length} symbols`}`,
        ]
      : []),
    ...(running.metricsUrl ? [`  metrics     ${running.metricsUrl}`] : []),
    ...describeBackends(running.deps).map((line) => `  ${line}`),
    '  stop with Ctrl+C',
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting at once');
        process.exit(128 + (os.constants.signals[signal] ?? 1));
      }
      stopping = true;
      const began = Date.now();
      logger.info({ signal }, 'shutting down: no new jobs or requests; finishing what is in flight');
      // Bounded: a stuck socket or server must not keep a stopping service alive past systemd's patience.
      // The roles budget their own steps well inside this (src/start.ts), so reaching it is a fault.
      setTimeout(() => {
        logger.error('shutdown took over 10 s; exiting');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
      running.close().then(
        () => {
          logger.info({ ms: Date.now() - began }, 'stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stockstreamer: ${message}\n`);
    process.exit(1);
  },
);
