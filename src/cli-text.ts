import os from 'node:os';
import type { Config, ConfigReader } from './config.ts';
import { VARIABLE_HELP } from './config.ts';
import type { Running } from './start.ts';

/** What the CLI prints: its usage, each command's help, and the banner of a running role. */

const WIDTH = 100;

export const COMMANDS: Record<string, { summary: string; usage?: string; reads: ConfigReader | undefined }> =
  {
    start: {
      summary:
        'Run everything: the API, the chart page and Bull Board in this process, the workers in a child process of it.',
      reads: 'start',
    },
    api: {
      summary:
        'Run the HTTP side only: GraphQL (with GraphiQL), the chart page, Bull Board, /healthz, /metrics.',
      reads: 'api',
    },
    worker: {
      summary: 'Run the BullMQ workers only, and upsert the price, logo and 52-week schedulers.',
      reads: 'worker',
    },
    migrate: {
      summary: 'Apply pending database migrations and exit (start, api and worker also do this).',
      reads: 'migrate',
    },
    providers: {
      summary:
        'Fetch a quote, name/logo and 52-week range once from PROVIDER and print what came back and how long each took.',
      usage: 'providers check [--symbol AAPL]',
      reads: 'providers',
    },
    'check-config': {
      summary: 'Parse the configuration and exit: 0 when it is valid, 78 with one line naming what is not.',
      reads: undefined,
    },
  };

/** Wraps `text` to WIDTH columns, every line after the first indented by `indent` spaces. */
function wrap(text: string, indent: number, firstWidth = WIDTH): string {
  const lines: string[] = [];
  let line = '';
  let width = firstWidth;
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
      width = WIDTH - indent;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

export const USAGE = `stockstreamer — a live stock price pipeline and dashboard

Usage: stockstreamer <command> [--help]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(13)} ${wrap(summary, 16, WIDTH - 16)}`)
  .join('\n')}

Configuration comes from environment variables; \`stockstreamer <command> --help\` lists the ones each
command reads, with their defaults (all of them: .env.example and the README). With none set, it runs an
embedded PostgreSQL under ./.data, the Redis at 127.0.0.1:6379 (or a private redis-server), and the
offline simulated market.
`;

export function commandHelp(command: string): string {
  const { summary, usage, reads } = COMMANDS[command]!;
  const variables = Object.entries(VARIABLE_HELP).filter(([, help]) => reads && help.readBy.includes(reads));
  const nameWidth = Math.max(...variables.map(([name]) => name.length), 0) + 2;
  const body = variables.map(
    ([name, help]) =>
      `  ${name.padEnd(nameWidth)}${wrap(`${help.meaning} (default: ${help.fallback})`, nameWidth + 2, WIDTH - nameWidth - 2)}`,
  );
  return [
    `Usage: stockstreamer ${usage ?? command}`,
    '',
    wrap(summary, 0),
    '',
    ...(variables.length
      ? ['Environment variables it reads:', ...body]
      : ['It reads every variable that any command reads (see .env.example).']),
    '',
  ].join('\n');
}

/** Every URL a user may open, at an address that reaches the server, and who may use admin. */
export function banner(options: {
  command: string;
  config: Config;
  running: Pick<Running, 'url' | 'adminMode' | 'workers' | 'workerPid' | 'metricsUrl'>;
  /** One line per backing service (src/deps.ts describeBackends). */
  backends: readonly string[];
  readyMs: number;
  interfaces?: ReturnType<typeof os.networkInterfaces>;
}): string {
  const { command, config, running, readyMs } = options;
  const lines = [`stockstreamer ${command} is running (ready in ${(readyMs / 1000).toFixed(1)} s)`];
  if (running.url) {
    const [base, ...others] = reachableBaseUrls(
      config.server.host,
      Number(new URL(running.url).port),
      options.interfaces,
    );
    lines.push(
      `  chart page  ${base}/`,
      `  GraphiQL    ${base}/graphql`,
      `  Bull Board  ${base}/admin/queues`,
      `  health      ${base}/healthz`,
      `  metrics     ${base}/metrics (admin)`,
      ...others.map((other) => `  also at     ${other}/`),
      `  admin       ${
        {
          password: 'with ADMIN_PASSWORD (HTTP Basic, any user name, or Authorization: Bearer)',
          loopback: 'from this machine only, no password (set ADMIN_PASSWORD to sign in from elsewhere)',
          disabled: 'disabled: HOST is not a loopback address and ADMIN_PASSWORD is unset',
        }[running.adminMode ?? 'disabled']
      }`,
    );
  }
  if (running.workers || running.workerPid) {
    lines.push(
      // The request plan is the workers' (a worker process logs it as it starts).
      `  workers     ${running.workers?.plan?.summary ?? `prices every ${config.schedule.priceIntervalMs} ms for ${config.symbols.length} symbols`}` +
        (running.workerPid ? ` (worker process ${running.workerPid()})` : ''),
    );
  }
  if (running.metricsUrl)
    lines.push(`  metrics     ${running.metricsUrl} (METRICS_PORT: loopback, no password)`);
  lines.push(...options.backends.map((line) => `  ${line}`), '  stop with Ctrl+C');
  return `\n${lines.join('\n')}\n\n`;
}

/**
 * Base URLs that reach a server bound to `host`. A wildcard address (0.0.0.0, ::) is not somewhere a
 * browser can go: it means every interface, so the loopback one comes first, then this host's others.
 */
export function reachableBaseUrls(
  host: string,
  port: number,
  interfaces: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces(),
): string[] {
  const format = (address: string) => `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  if (host !== '0.0.0.0' && host !== '::' && host !== '[::]') return [format(host)];
  const external = Object.values(interfaces)
    .flat()
    .filter((entry) => entry && !entry.internal && (host !== '0.0.0.0' || entry.family === 'IPv4'))
    .filter((entry) => !entry!.address.startsWith('fe80:'))
    .map((entry) => format(entry!.address));
  // Node binds '::' dual-stack, so 127.0.0.1 reaches it too.
  return [format('127.0.0.1'), ...external];
}
