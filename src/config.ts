import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_SYMBOLS, parseSymbolList } from './domain/symbols.ts';
import { WEBHOOK_PRESETS, type WebhookPreset } from './domain/webhook-payload.ts';

/** Providers that can be chosen with `PROVIDER`: the offline simulation and one file each in src/providers. */
export const PROVIDER_NAMES = [
  'simulated',
  'finnhub',
  'twelvedata',
  'alphavantage',
  'yahoo',
  'polygon',
] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
export type LiveProviderName = Exclude<ProviderName, 'simulated'>;

/**
 * What each live provider needs from the environment, and the defaults that fit its free tier. `budget` is
 * the request budget shared by every worker (PROVIDER_BUDGET overrides it); `concurrency` bounds the
 * requests in flight where a provider has no batch endpoint (PROVIDER_CONCURRENCY overrides it).
 */
export const LIVE_PROVIDERS: Readonly<
  Record<
    LiveProviderName,
    Readonly<{
      keyVariable: string | undefined;
      signup: string | undefined;
      baseUrlVariable: string;
      baseUrl: string;
      budget: string;
      /** The provider's burst rule, requests per second, when it states one (kept in every plan). */
      perSecond?: number;
      concurrency: number;
    }>
  >
> = {
  finnhub: {
    keyVariable: 'FINNHUB_API_KEY',
    signup: 'https://finnhub.io/register',
    baseUrlVariable: 'FINNHUB_BASE_URL',
    baseUrl: 'https://finnhub.io/api/v1',
    budget: '60/min',
    perSecond: 30,
    concurrency: 4,
  },
  twelvedata: {
    keyVariable: 'TWELVEDATA_API_KEY',
    signup: 'https://twelvedata.com/register',
    baseUrlVariable: 'TWELVEDATA_BASE_URL',
    baseUrl: 'https://api.twelvedata.com',
    budget: '8/min',
    concurrency: 4,
  },
  alphavantage: {
    keyVariable: 'ALPHAVANTAGE_API_KEY',
    signup: 'https://www.alphavantage.co/support/#api-key',
    baseUrlVariable: 'ALPHAVANTAGE_BASE_URL',
    baseUrl: 'https://www.alphavantage.co',
    budget: '25/day',
    perSecond: 1,
    // The free key also refuses more than about one request a second, so one at a time.
    concurrency: 1,
  },
  yahoo: {
    keyVariable: undefined,
    signup: undefined,
    baseUrlVariable: 'YAHOO_BASE_URL',
    baseUrl: 'https://query1.finance.yahoo.com',
    budget: '100/min',
    concurrency: 4,
  },
  polygon: {
    keyVariable: 'POLYGON_API_KEY',
    signup: 'https://massive.com/dashboard/signup',
    baseUrlVariable: 'POLYGON_BASE_URL',
    baseUrl: 'https://api.massive.com',
    budget: '5/min',
    concurrency: 4,
  },
};

/** A request budget: at most `max` requests (or credits) in any `windowMs`, counted across all workers. */
export interface RequestBudgetConfig {
  max: number;
  windowMs: number;
  /** As the user wrote it (or the default), for logs and `providers check`. */
  text: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Thrown when the environment holds a value we cannot run with. The message is one line that names the
 * variable, the value it got and what it wants, because that is all a user sees before the process exits.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `a whole number from ${min} to ${max}`)
        .max(max, `a whole number from ${min} to ${max}`),
    );

const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

const BUDGET_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};
const BUDGET_WANTED = 'requests per window such as 60/min, 5/s, 800/day or 10/2s (or "off")';

/** Parses `60/min`, `8/minute`, `25/day`, `10/2s`; `off` means no budget. */
export function parseBudget(raw: string): RequestBudgetConfig | null | undefined {
  const text = raw.trim().toLowerCase();
  if (['off', 'none', 'unlimited'].includes(text)) return null;
  const match = /^(\d{1,7})\s*\/\s*(\d{1,7})?\s*([a-z]+)$/.exec(text);
  // Plurals too: "8/minutes", "100/hours" (but "ms" is milliseconds, not a plural of "m").
  const unit = match ? (BUDGET_UNITS[match[3]!] ?? BUDGET_UNITS[match[3]!.replace(/s$/, '')]) : undefined;
  if (!match || unit === undefined) return undefined;
  const max = Number(match[1]);
  const windowMs = Number(match[2] ?? 1) * unit;
  if (max < 1 || windowMs < 100 || windowMs > 7 * 86_400_000) return undefined;
  return { max, windowMs, text: raw.trim() };
}

const budget = z.string().transform((value, ctx) => {
  const parsed = parseBudget(value);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: BUDGET_WANTED });
    return z.NEVER;
  }
  return parsed;
});

// Keys go into headers and query strings: printable ASCII without spaces, and never echoed in errors.
const apiKey = z
  .string()
  .trim()
  .regex(/^[\x21-\x7e]{4,256}$/, 'an API key: 4 to 256 printable characters without spaces');

/** A Host header value: a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional port. */
const HOST_PATTERN =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

const enumOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `one of ${values.join(', ')}` });

/** The environment variables we read, with the defaults a newcomer's `npm start` runs on. */
const envSchema = z.object({
  PORT: integer(0, 65535).default(4000),
  HOST: z.string().trim().min(1, 'a host name or IP address').default('127.0.0.1'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_SENTINELS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const sentinels: { host: string; port: number }[] = [];
      for (const part of value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const sentinel = parseSentinelAddress(part);
        if (!sentinel) {
          ctx.addIssue({
            code: 'custom',
            message: `comma-separated Sentinel addresses host:port (port 1 to 65535; 26379 when left out), such as 10.0.0.5:26379,10.0.0.6:26379, but "${part}" is not one`,
          });
          return z.NEVER;
        }
        sentinels.push(sentinel);
      }
      return sentinels;
    }),
  REDIS_SENTINEL_MASTER: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9._-]{1,128}$/,
      'the master name the sentinels monitor (letters, digits, ".", "_", "-")',
    )
    .optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1, 'a non-empty password').optional(),
  REDIS_PASSWORD: z.string().min(1, 'a non-empty password').optional(),
  PROVIDER: enumOf(PROVIDER_NAMES).default('simulated'),
  PROVIDER_TIMEOUT_MS: integer(100, 120_000).default(5000),
  PROVIDER_BUDGET: budget.optional(),
  PROVIDER_CONCURRENCY: integer(1, 32).optional(),
  FINNHUB_API_KEY: apiKey.optional(),
  FINNHUB_STREAM_URL: url(['wss:', 'ws:']).optional(),
  TWELVEDATA_API_KEY: apiKey.optional(),
  ALPHAVANTAGE_API_KEY: apiKey.optional(),
  POLYGON_API_KEY: apiKey.optional(),
  FINNHUB_BASE_URL: url(['https:', 'http:']).optional(),
  TWELVEDATA_BASE_URL: url(['https:', 'http:']).optional(),
  ALPHAVANTAGE_BASE_URL: url(['https:', 'http:']).optional(),
  YAHOO_BASE_URL: url(['https:', 'http:']).optional(),
  POLYGON_BASE_URL: url(['https:', 'http:']).optional(),
  SIMULATED_SEED: z.string().trim().min(1, 'a non-empty seed').default('stockstreamer'),
  SYMBOLS: z
    .string()
    .default(DEFAULT_SYMBOLS.join(','))
    .transform((value, ctx) => {
      const parsed = parseSymbolList(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.symbols;
    }),
  PRICE_INTERVAL_MS: integer(250, 86_400_000).default(5000),
  LOGO_INTERVAL_MS: integer(1000, 604_800_000).default(5_000_000),
  HIGHLOW_INTERVAL_MS: integer(1000, 604_800_000).default(5_000_000),
  BACKFILL_DAYS: integer(0, 3650).default(7),
  RETAIN_TICKS_DAYS: z
    .string()
    .trim()
    .refine(
      (value) => value === 'forever' || (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 3650),
      'a whole number of days from 1 to 3650, or forever',
    )
    .transform((value) => (value === 'forever' ? ('forever' as const) : Number(value)))
    .default(30),
  MARKET_CALENDAR: enumOf(['auto', 'follow', 'ignore'] as const).default('auto'),
  DATA_DIR: z.string().trim().min(1, 'a directory path').default('./.data'),
  LOG_LEVEL: enumOf(LOG_LEVELS).default('info'),
  QUEUE_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-" (1 to 64 of them)')
    .default('stockstreamer'),
  ADMIN_PASSWORD: z.string().min(12, 'a password of at least 12 characters').optional(),
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return [];
      const origins: string[] = [];
      for (const part of value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        let origin: string | undefined;
        try {
          const parsed = new URL(part);
          if (
            (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
            parsed.origin === part.replace(/\/$/, '')
          ) {
            origin = parsed.origin;
          }
        } catch {}
        if (!origin) {
          ctx.addIssue({
            code: 'custom',
            message: `comma-separated origins such as https://stocks.example.com, but "${part}" is not one`,
          });
          return z.NEVER;
        }
        origins.push(origin);
      }
      return origins;
    }),
  RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000).default(600),
  MAX_SUBSCRIPTIONS_PER_CLIENT: integer(1, 1_000_000).default(20),
  /** How many reverse proxies stand in front of the app; the client is the address the outermost one saw. */
  TRUST_PROXY: z
    .string()
    .trim()
    .regex(
      /^\d{1,2}$/,
      'the number of reverse proxies in front of the app: 0 (none, the default) or 1 (e.g. Caddy on the same box); "true" is not a count',
    )
    .default('0')
    .transform(Number),
  ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const hosts: string[] = [];
      for (const part of (value ?? '')
        .split(',')
        .map((p) => p.trim().toLowerCase())
        .filter(Boolean)) {
        if (!HOST_PATTERN.test(part)) {
          ctx.addIssue({
            code: 'custom',
            message: `comma-separated host names as browsers send them in Host, such as stocks.example.com or 203.0.113.7:8080, but "${part}" is not one`,
          });
          return z.NEVER;
        }
        hosts.push(part);
      }
      return hosts;
    }),
  BULL_BOARD_WRITE: z
    .enum(['true', 'false'], { error: 'true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  METRICS_PORT: integer(0, 65535).optional(),
  ALERT_WEBHOOKS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const hooks: { preset: WebhookPreset; url: string }[] = [];
      for (const part of (value ?? '').split(/[\s,]+/).filter(Boolean)) {
        const split = part.indexOf('=');
        const preset = part.slice(0, split) as WebhookPreset;
        let url: URL | undefined;
        try {
          url = new URL(part.slice(split + 1));
        } catch {}
        if (
          split < 0 ||
          !WEBHOOK_PRESETS.includes(preset) ||
          !url ||
          (url.protocol !== 'https:' && url.protocol !== 'http:') ||
          url.username !== '' ||
          url.password !== ''
        ) {
          ctx.addIssue({
            code: 'custom',
            message: `space- or comma-separated preset=url pairs, the preset one of ${WEBHOOK_PRESETS.join(', ')} and the url http(s) without credentials (e.g. json=https://hooks.example.com/stocks), but "${part.slice(0, 40)}" is not one`,
          });
          return z.NEVER;
        }
        hooks.push({ preset, url: url.toString() });
      }
      return hooks;
    }),
  ALERT_WEBHOOK_SECRET: z.string().min(16, 'a signing secret of at least 16 characters').optional(),
  ALERT_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { error: 'true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  ALERT_WEBHOOK_TIMEOUT_MS: integer(100, 120_000).default(5000),
  ALERT_WEBHOOK_ATTEMPTS: integer(1, 30).default(8),
  ALERT_WEBHOOK_BACKOFF_MS: integer(1, 3_600_000).default(2000),
});

export type Config = Readonly<{
  server: Readonly<{ host: string; port: number }>;
  /** `port` set: this process also serves /metrics on 127.0.0.1:port, without auth (how a worker is scraped). */
  metrics: Readonly<{ port: number | undefined }>;
  /** `url` undefined means: run the embedded PostgreSQL under `dataDir`. */
  database: Readonly<{ url: string | undefined }>;
  /**
   * `url` undefined means: use 127.0.0.1:6379, or start a private redis-server if nothing answers there;
   * `sentinel` set means: ask these sentinels where the primary of `masterName` is, and ask again after a
   * failover (then `url` is undefined).
   */
  redis: Readonly<{ url: string | undefined; sentinel: Readonly<RedisSentinelConfig> | undefined }>;
  /**
   * `timeoutMs` bounds each upstream request (through an AbortSignal); `seed` drives the simulated provider.
   * `apiKey` and `baseUrl` are the selected live provider's (no key for simulated and yahoo); `budget` is
   * shared by every worker through Redis (undefined: no budget); `concurrency` bounds requests in flight.
   */
  provider: Readonly<{
    name: ProviderName;
    seed: string;
    timeoutMs: number;
    apiKey: string | undefined;
    baseUrl: string | undefined;
    budget: Readonly<RequestBudgetConfig> | undefined;
    concurrency: number;
    /** Finnhub's trade stream (FINNHUB_STREAM_URL), when prices are to come from it. */
    streamUrl: string | undefined;
  }>;
  symbols: readonly string[];
  schedule: Readonly<{ priceIntervalMs: number; logoIntervalMs: number; highlowIntervalMs: number }>;
  /** How many days back from now the history jobs keep filled (0: no backfill and no gap repair). */
  /**
   * `retainTicksDays`: whole UTC days of raw ticks kept before today's (RETAIN_TICKS_DAYS); older days are
   * dropped by the maintenance job and drawn from the minute rollup, which is kept for ever.
   */
  history: Readonly<{ backfillDays: number; retainTicksDays: number | 'forever' }>;
  /**
   * `followsCalendar`: prices are asked for only in US sessions (src/domain/market-calendar.ts), and the
   * gap repair does not count closed hours as gaps. MARKET_CALENDAR=auto (the default) follows it for live
   * providers and lets the simulated market trade around the clock; `follow` and `ignore` say so for all.
   */
  market: Readonly<{ followsCalendar: boolean }>;
  /** Absolute, resolved once so that every part agrees on where state lives. */
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** BullMQ key prefix and pub/sub channel namespace; tests give each run its own. */
  queuePrefix: string;
  /**
   * `adminPassword` guards Bull Board and watchlist mutations (unset: admin only on a loopback HOST);
   * `allowedOrigins` are the other origins whose pages may call the API (same-origin is always allowed);
   * the limits are per client address, which comes from X-Forwarded-For only when `trustProxy` (a count of
   * proxies in front) is above 0; `allowedHosts` are the Host names served besides loopback ones (DNS
   * rebinding); `bullBoardWrite` lets admins change queues and jobs in Bull Board (read-only otherwise).
   */
  security: Readonly<{
    adminPassword: string | undefined;
    allowedOrigins: readonly string[];
    rateLimitPerMinute: number;
    maxSubscriptionsPerClient: number;
    trustProxy: number;
    allowedHosts: readonly string[];
    bullBoardWrite: boolean;
  }>;
  /**
   * Alert webhooks (ALERT_WEBHOOKS): where each firing is POSTed, signed with `secret`; `allowPrivate` lets
   * a webhook reach private, loopback and link-local addresses (refused otherwise: SSRF); each delivery is
   * tried `attempts` times, waiting `backoffMs`, then twice that, and so on, before it is dead-lettered.
   */
  webhooks: Readonly<{
    targets: readonly Readonly<{ preset: WebhookPreset; url: string }>[];
    secret: string | undefined;
    allowPrivate: boolean;
    timeoutMs: number;
    attempts: number;
    backoffMs: number;
  }>;
}>;

/** Redis behind Sentinel: REDIS_SENTINELS, REDIS_SENTINEL_MASTER and the optional passwords. */
export interface RedisSentinelConfig {
  sentinels: readonly Readonly<{ host: string; port: number }>[];
  masterName: string;
  /** AUTH for the primary and its replicas (REDIS_PASSWORD). */
  password: string | undefined;
  /** AUTH for the sentinels themselves (REDIS_SENTINEL_PASSWORD), when they have `requirepass`. */
  sentinelPassword: string | undefined;
}

const SENTINEL_PORT = 26379;

/** `host`, `host:port` or `[ipv6]:port`; undefined when it is none of them. */
export function parseSentinelAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = match[3] === undefined ? SENTINEL_PORT : Number(match[3]);
  if (port < 1 || port > 65535 || host.startsWith('-') || host.startsWith('.')) return undefined;
  return { host, port };
}

function describe(value: unknown, variable = ''): string {
  if (value === undefined) return '(unset)';
  // A key is a secret: an error line says that one was given, never what it was.
  if (variable.endsWith('_API_KEY') || variable.endsWith('PASSWORD') || variable.endsWith('_SECRET'))
    return `(${String(value).trim().length} characters, not shown)`;
  const text = String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses the environment once into a typed, frozen, nested object. Nothing else in the code base reads
 * `process.env`; everything receives the parts of this object it needs.
 *
 * Empty strings count as unset, so `FOO=` in an env file falls back to the default instead of failing.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const result = envSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(
      `${variable}=${describe(input[variable], variable)} is not valid: wanted ${issue.message}`,
    );
  }
  const e = result.data;
  const live = e.PROVIDER === 'simulated' ? undefined : LIVE_PROVIDERS[e.PROVIDER];
  let apiKey: string | undefined;
  if (live?.keyVariable) {
    apiKey = e[live.keyVariable as keyof typeof e] as string | undefined;
    if (apiKey === undefined) {
      throw new ConfigError(
        `${live.keyVariable}=(unset) is not valid: wanted the API key that PROVIDER=${e.PROVIDER} needs (get one at ${live.signup})`,
      );
    }
  }
  if (e.ALERT_WEBHOOKS.length > 0 && e.ALERT_WEBHOOK_SECRET === undefined) {
    throw new ConfigError(
      'ALERT_WEBHOOK_SECRET=(unset) is not valid: wanted the secret (at least 16 characters) that signs the deliveries to ALERT_WEBHOOKS',
    );
  }
  if (e.RETAIN_TICKS_DAYS !== 'forever' && e.BACKFILL_DAYS > e.RETAIN_TICKS_DAYS) {
    throw new ConfigError(
      `BACKFILL_DAYS=${describe(String(e.BACKFILL_DAYS))} is not valid: wanted at most RETAIN_TICKS_DAYS (${e.RETAIN_TICKS_DAYS}) days: history filled further back than raw ticks are kept would be dropped again (raise RETAIN_TICKS_DAYS or lower BACKFILL_DAYS)`,
    );
  }
  const sentinel = redisSentinel(e);
  const providerBudget =
    e.PROVIDER_BUDGET === undefined ? (live ? parseBudget(live.budget) : undefined) : e.PROVIDER_BUDGET;
  return deepFreeze({
    server: { host: e.HOST, port: e.PORT },
    metrics: { port: e.METRICS_PORT },
    database: { url: e.DATABASE_URL },
    redis: { url: e.REDIS_URL, sentinel },
    provider: {
      name: e.PROVIDER,
      seed: e.SIMULATED_SEED,
      timeoutMs: e.PROVIDER_TIMEOUT_MS,
      apiKey,
      baseUrl: live
        ? ((e[live.baseUrlVariable as keyof typeof e] as string | undefined) ?? live.baseUrl).replace(
            /\/+$/,
            '',
          )
        : undefined,
      budget: providerBudget ?? undefined,
      concurrency: e.PROVIDER_CONCURRENCY ?? live?.concurrency ?? 4,
      streamUrl: e.PROVIDER === 'finnhub' ? e.FINNHUB_STREAM_URL : undefined,
    },
    symbols: e.SYMBOLS,
    schedule: {
      priceIntervalMs: e.PRICE_INTERVAL_MS,
      logoIntervalMs: e.LOGO_INTERVAL_MS,
      highlowIntervalMs: e.HIGHLOW_INTERVAL_MS,
    },
    history: { backfillDays: e.BACKFILL_DAYS, retainTicksDays: e.RETAIN_TICKS_DAYS },
    market: {
      followsCalendar:
        e.MARKET_CALENDAR === 'follow' || (e.MARKET_CALENDAR === 'auto' && e.PROVIDER !== 'simulated'),
    },
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    queuePrefix: e.QUEUE_PREFIX,
    security: {
      adminPassword: e.ADMIN_PASSWORD,
      allowedOrigins: e.ALLOWED_ORIGINS,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      maxSubscriptionsPerClient: e.MAX_SUBSCRIPTIONS_PER_CLIENT,
      trustProxy: e.TRUST_PROXY,
      allowedHosts: e.ALLOWED_HOSTS,
      bullBoardWrite: e.BULL_BOARD_WRITE,
    },
    webhooks: {
      targets: e.ALERT_WEBHOOKS,
      secret: e.ALERT_WEBHOOK_SECRET,
      allowPrivate: e.ALERT_WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: e.ALERT_WEBHOOK_TIMEOUT_MS,
      attempts: e.ALERT_WEBHOOK_ATTEMPTS,
      backoffMs: e.ALERT_WEBHOOK_BACKOFF_MS,
    },
  });
}

/** The Sentinel settings hang together: a list and a master name, and no REDIS_URL beside them. */
function redisSentinel(e: {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: { host: string; port: number }[] | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
}): RedisSentinelConfig | undefined {
  if (e.REDIS_SENTINELS === undefined || e.REDIS_SENTINELS.length === 0) {
    for (const variable of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD', 'REDIS_PASSWORD'] as const) {
      if (e[variable] !== undefined) {
        throw new ConfigError(
          `${variable}=${describe(e[variable], variable)} is not valid: wanted it only with REDIS_SENTINELS (with REDIS_URL, put the password in the URL: redis://:password@host:6379)`,
        );
      }
    }
    return undefined;
  }
  if (e.REDIS_URL !== undefined) {
    throw new ConfigError(
      `REDIS_URL=${describe(e.REDIS_URL)} is not valid: wanted REDIS_URL or REDIS_SENTINELS, not both (with sentinels the primary's address comes from them)`,
    );
  }
  if (e.REDIS_SENTINEL_MASTER === undefined) {
    throw new ConfigError(
      'REDIS_SENTINEL_MASTER=(unset) is not valid: wanted the master name the sentinels in REDIS_SENTINELS monitor (as in `sentinel monitor <name> …`, often "mymaster")',
    );
  }
  return {
    sentinels: e.REDIS_SENTINELS,
    masterName: e.REDIS_SENTINEL_MASTER,
    password: e.REDIS_PASSWORD,
    sentinelPassword: e.REDIS_SENTINEL_PASSWORD,
  };
}

/** The commands of the CLI (src/cli.ts) that read variables. */
export type ConfigReader = 'start' | 'api' | 'worker' | 'migrate' | 'providers';

type VariableName = keyof typeof envSchema.shape;

const EVERY_ROLE: readonly ConfigReader[] = ['start', 'api', 'worker'];
const HTTP: readonly ConfigReader[] = ['start', 'api'];
const MARKET: readonly ConfigReader[] = ['start', 'worker', 'providers'];
/** The processes that evaluate alerts and deliver webhooks. */
const ALERT_WORKERS: readonly ConfigReader[] = ['start', 'worker'];

/**
 * What each variable means, its default, and which commands read it: `--help` of each command lists
 * exactly its own. Typed over the schema's keys, so a variable added there without a line here does not
 * compile.
 */
export const VARIABLE_HELP: Readonly<
  Record<VariableName, Readonly<{ fallback: string; meaning: string; readBy: readonly ConfigReader[] }>>
> = {
  HOST: { fallback: '127.0.0.1', meaning: 'address the HTTP server binds to', readBy: HTTP },
  PORT: { fallback: '4000', meaning: 'its port (0 picks a free one)', readBy: HTTP },
  DATABASE_URL: {
    fallback: 'an embedded PostgreSQL in DATA_DIR',
    meaning: 'postgres:// URL of an external PostgreSQL',
    readBy: [...EVERY_ROLE, 'migrate'],
  },
  REDIS_URL: {
    fallback: '127.0.0.1:6379, or a private redis-server',
    meaning: 'redis:// URL; must answer within 5 s at start',
    readBy: EVERY_ROLE,
  },
  REDIS_SENTINELS: {
    fallback: 'unset',
    meaning: 'host:port,… of Redis sentinels, instead of REDIS_URL',
    readBy: EVERY_ROLE,
  },
  REDIS_SENTINEL_MASTER: {
    fallback: 'unset',
    meaning: 'the master name the sentinels monitor',
    readBy: EVERY_ROLE,
  },
  REDIS_PASSWORD: {
    fallback: 'unset',
    meaning: "with REDIS_SENTINELS: the primary's and replicas' password",
    readBy: EVERY_ROLE,
  },
  REDIS_SENTINEL_PASSWORD: {
    fallback: 'unset',
    meaning: "with REDIS_SENTINELS: the sentinels' own password",
    readBy: EVERY_ROLE,
  },
  PROVIDER: {
    fallback: 'simulated',
    meaning: `market data: ${PROVIDER_NAMES.join(', ')}`,
    readBy: [...EVERY_ROLE, 'providers'],
  },
  PROVIDER_TIMEOUT_MS: { fallback: '5000', meaning: 'upper bound on each upstream request', readBy: MARKET },
  PROVIDER_BUDGET: {
    fallback: "the provider's free tier",
    meaning: 'upstream requests per window for the whole deployment (60/min, 5/s, off)',
    readBy: MARKET,
  },
  PROVIDER_CONCURRENCY: {
    fallback: '4 (alphavantage 1)',
    meaning: 'requests in flight at once',
    readBy: MARKET,
  },
  FINNHUB_API_KEY: { fallback: 'unset', meaning: 'key for PROVIDER=finnhub (never printed)', readBy: MARKET },
  TWELVEDATA_API_KEY: {
    fallback: 'unset',
    meaning: 'key for PROVIDER=twelvedata (never printed)',
    readBy: MARKET,
  },
  ALPHAVANTAGE_API_KEY: {
    fallback: 'unset',
    meaning: 'key for PROVIDER=alphavantage (never printed)',
    readBy: MARKET,
  },
  POLYGON_API_KEY: { fallback: 'unset', meaning: 'key for PROVIDER=polygon (never printed)', readBy: MARKET },
  FINNHUB_BASE_URL: {
    fallback: LIVE_PROVIDERS.finnhub.baseUrl,
    meaning: 'where Finnhub is reached',
    readBy: MARKET,
  },
  FINNHUB_STREAM_URL: {
    fallback: 'unset',
    meaning: 'wss://ws.finnhub.io to take Finnhub prices from its trade stream instead of REST',
    readBy: MARKET,
  },
  TWELVEDATA_BASE_URL: {
    fallback: LIVE_PROVIDERS.twelvedata.baseUrl,
    meaning: 'where Twelve Data is reached',
    readBy: MARKET,
  },
  ALPHAVANTAGE_BASE_URL: {
    fallback: LIVE_PROVIDERS.alphavantage.baseUrl,
    meaning: 'where Alpha Vantage is reached',
    readBy: MARKET,
  },
  YAHOO_BASE_URL: {
    fallback: LIVE_PROVIDERS.yahoo.baseUrl,
    meaning: 'where Yahoo is reached',
    readBy: MARKET,
  },
  POLYGON_BASE_URL: {
    fallback: LIVE_PROVIDERS.polygon.baseUrl,
    meaning: 'where Polygon is reached',
    readBy: MARKET,
  },
  SIMULATED_SEED: {
    fallback: 'stockstreamer',
    meaning: 'seed of the simulated market (same seed, same prices)',
    readBy: MARKET,
  },
  SYMBOLS: {
    fallback: DEFAULT_SYMBOLS.join(','),
    meaning: 'tickers added to the watchlist at start',
    readBy: [...EVERY_ROLE, 'providers'],
  },
  PRICE_INTERVAL_MS: {
    fallback: '5000',
    meaning: 'price fetch interval (also paces Redis reconnects)',
    readBy: EVERY_ROLE,
  },
  LOGO_INTERVAL_MS: {
    fallback: '5000000',
    meaning: 'logo and company-name refresh interval',
    readBy: ['start', 'worker'],
  },
  HIGHLOW_INTERVAL_MS: {
    fallback: '5000000',
    meaning: '52-week high/low refresh interval',
    readBy: ['start', 'worker'],
  },
  BACKFILL_DAYS: {
    fallback: '7',
    meaning:
      'days of history filled at first start and for each added ticker, kept whole by the gap repair (0 to 3650; 0 turns both off)',
    readBy: EVERY_ROLE,
  },
  RETAIN_TICKS_DAYS: {
    fallback: '30',
    meaning:
      'days of raw ticks kept (1 to 3650, or forever); older days are dropped whole and charted from the minute rollup, kept for ever',
    readBy: EVERY_ROLE,
  },
  MARKET_CALENDAR: {
    fallback: 'auto',
    meaning:
      'auto: live providers are polled only in US sessions, the simulated market trades around the clock; follow: all follow the sessions; ignore: poll at all hours',
    readBy: EVERY_ROLE,
  },
  DATA_DIR: {
    fallback: './.data',
    meaning: 'where an embedded PostgreSQL and a private Redis keep data',
    readBy: [...EVERY_ROLE, 'migrate'],
  },
  LOG_LEVEL: { fallback: 'info', meaning: `${LOG_LEVELS.join(', ')}`, readBy: [...EVERY_ROLE, 'migrate'] },
  QUEUE_PREFIX: {
    fallback: 'stockstreamer',
    meaning: 'namespace of the BullMQ keys and the tick channel in Redis',
    readBy: EVERY_ROLE,
  },
  ADMIN_PASSWORD: {
    fallback: 'unset: admin from this machine only, on a loopback HOST',
    meaning: 'guards Bull Board, /metrics and watchlist edits (12+ characters)',
    readBy: HTTP,
  },
  ALLOWED_ORIGINS: {
    fallback: 'unset',
    meaning: 'other origins whose pages may call /graphql',
    readBy: HTTP,
  },
  RATE_LIMIT_PER_MINUTE: {
    fallback: '600',
    meaning: '/graphql requests per client per minute',
    readBy: HTTP,
  },
  MAX_SUBSCRIPTIONS_PER_CLIENT: { fallback: '20', meaning: 'open subscriptions per client', readBy: HTTP },
  TRUST_PROXY: {
    fallback: '0',
    meaning: 'how many reverse proxies of yours stand in front (0 or 1); a bare true is refused',
    readBy: HTTP,
  },
  ALLOWED_HOSTS: {
    fallback: 'unset: localhost, 127.0.0.1, [::1] only',
    meaning: 'host names served besides loopback (comma-separated, optional :port)',
    readBy: HTTP,
  },
  METRICS_PORT: {
    fallback: 'unset',
    meaning: 'also serve /metrics on 127.0.0.1 at this port, without a password (each process its own)',
    readBy: EVERY_ROLE,
  },
  BULL_BOARD_WRITE: {
    fallback: 'false',
    meaning: 'true lets admins change jobs and queues in Bull Board; read-only otherwise',
    readBy: HTTP,
  },
  ALERT_WEBHOOKS: {
    fallback: 'none',
    meaning: 'where price alerts are POSTed: preset=url pairs (json, slack, discord, ntfy)',
    readBy: ALERT_WORKERS,
  },
  ALERT_WEBHOOK_SECRET: {
    fallback: 'none (required with ALERT_WEBHOOKS)',
    meaning: 'signs each delivery (HMAC-SHA256 over timestamp and body)',
    readBy: ALERT_WORKERS,
  },
  ALERT_WEBHOOK_ALLOW_PRIVATE: {
    fallback: 'false',
    meaning: 'true lets webhooks reach private, loopback and link-local addresses',
    readBy: ALERT_WORKERS,
  },
  ALERT_WEBHOOK_TIMEOUT_MS: {
    fallback: '5000',
    meaning: 'how long a delivery waits for an answer',
    readBy: ALERT_WORKERS,
  },
  ALERT_WEBHOOK_ATTEMPTS: {
    fallback: '8',
    meaning: 'tries per delivery before the dead letter',
    readBy: ALERT_WORKERS,
  },
  ALERT_WEBHOOK_BACKOFF_MS: {
    fallback: '2000',
    meaning: 'wait before the first retry of a delivery; doubles each time',
    readBy: ALERT_WORKERS,
  },
};
