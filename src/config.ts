import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_SYMBOLS, parseSymbolList } from './domain/symbols.ts';

/** Providers that can be chosen with `PROVIDER`. Live ones are added one file each in src/providers. */
export const PROVIDER_NAMES = ['simulated'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

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

const enumOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `one of ${values.join(', ')}` });

/** The environment variables we read, with the defaults a newcomer's `npm start` runs on. */
const envSchema = z.object({
  PORT: integer(0, 65535).default(4000),
  HOST: z.string().trim().min(1, 'a host name or IP address').default('127.0.0.1'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  PROVIDER: enumOf(PROVIDER_NAMES).default('simulated'),
  PROVIDER_TIMEOUT_MS: integer(100, 120_000).default(5000),
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
  DATA_DIR: z.string().trim().min(1, 'a directory path').default('./.data'),
  LOG_LEVEL: enumOf(LOG_LEVELS).default('info'),
  QUEUE_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-" (1 to 64 of them)')
    .default('stockstreamer'),
});

export type Config = Readonly<{
  server: Readonly<{ host: string; port: number }>;
  /** `url` undefined means: run the embedded PostgreSQL under `dataDir`. */
  database: Readonly<{ url: string | undefined }>;
  /** `url` undefined means: use 127.0.0.1:6379, or start a private redis-server if nothing answers there. */
  redis: Readonly<{ url: string | undefined }>;
  /** `timeoutMs` bounds each provider call (through an AbortSignal); `seed` drives the simulated provider. */
  provider: Readonly<{ name: ProviderName; seed: string; timeoutMs: number }>;
  symbols: readonly string[];
  schedule: Readonly<{ priceIntervalMs: number; logoIntervalMs: number; highlowIntervalMs: number }>;
  /** Absolute, resolved once so that every part agrees on where state lives. */
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** BullMQ key prefix and pub/sub channel namespace; tests give each run its own. */
  queuePrefix: string;
}>;

function describe(value: unknown): string {
  if (value === undefined) return '(unset)';
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
    throw new ConfigError(`${variable}=${describe(input[variable])} is not valid: wanted ${issue.message}`);
  }
  const e = result.data;
  return deepFreeze({
    server: { host: e.HOST, port: e.PORT },
    database: { url: e.DATABASE_URL },
    redis: { url: e.REDIS_URL },
    provider: { name: e.PROVIDER, seed: e.SIMULATED_SEED, timeoutMs: e.PROVIDER_TIMEOUT_MS },
    symbols: e.SYMBOLS,
    schedule: {
      priceIntervalMs: e.PRICE_INTERVAL_MS,
      logoIntervalMs: e.LOGO_INTERVAL_MS,
      highlowIntervalMs: e.HIGHLOW_INTERVAL_MS,
    },
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    queuePrefix: e.QUEUE_PREFIX,
  });
}

/** The names of every variable `loadConfig` reads; the README and .env.example list the same set. */
export const CONFIG_VARIABLES = Object.freeze(Object.keys(envSchema.shape));
