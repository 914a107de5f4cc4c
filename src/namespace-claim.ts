import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Database, redactUrl } from './db/client.ts';
import { deploymentIdentity } from './db/schema.ts';

/**
 * Another deployment (another database) already uses this QUEUE_PREFIX on this Redis. Its message is one
 * line that names the variable and what to do, for the CLI to print as it is.
 */
export class NamespaceClaimedError extends Error {
  override name = 'NamespaceClaimedError';
}

/** Where a deployment's claim on its prefix lives: under the prefix, beside its queues and channels. */
export function namespaceClaimKey(prefix: string): string {
  return `${prefix}:deployment`;
}

interface Claim {
  /** The database's identity (deployment_identity.id). */
  id: string;
  /** Where that database was, without a password: only for the message a refused process prints. */
  database: string;
}

/**
 * Claims `prefix` in Redis for this database, or confirms the claim is already this database's. Queues,
 * schedulers, the tick channel and the request budget all live under the prefix, so two databases on one
 * prefix would share one set of jobs: each database's workers would fetch the other's watchlist into their
 * own tables and each page would draw the other's ticks. Every process of the same database (more workers,
 * more API hosts) finds its own id in the claim and goes on.
 *
 * The claim has no expiry: a deployment that is stopped still owns its queues' state. When it is gone for
 * good, deleting the key (the error says how) frees the prefix.
 */
export async function claimNamespace(options: {
  redis: Redis;
  db: Database;
  prefix: string;
  databaseUrl: string;
  /** This database's identity when the caller has read it already (it never changes). */
  id?: string;
}): Promise<{ id: string }> {
  const { redis, prefix } = options;
  const id = options.id ?? (await databaseIdentity(options.db));
  const key = namespaceClaimKey(prefix);
  const mine: Claim = { id, database: redactUrl(options.databaseUrl) };
  // SET NX: of two processes claiming at once, exactly one writes; the other reads the winner's claim. A
  // key deleted between the two steps is claimed on the second turn.
  let text: string | null = null;
  for (let turn = 0; turn < 2 && text === null; turn++) {
    if ((await redis.set(key, JSON.stringify(mine), 'NX')) === 'OK') return { id };
    text = await redis.get(key);
  }
  const held = parseClaim(text);
  if (held?.id === id) return { id };
  if (held === undefined) {
    throw new NamespaceClaimedError(
      `QUEUE_PREFIX "${prefix}": the Redis key ${key} holds something that is not a deployment claim; set QUEUE_PREFIX to another name, or delete the key (redis-cli DEL ${key}) if nothing else uses this prefix`,
    );
  }
  throw new NamespaceClaimedError(
    `QUEUE_PREFIX "${prefix}" is already used on this Redis by another deployment (database ${held.database}, id ${held.id}; this one is ${mine.database}, id ${id}): give this deployment its own QUEUE_PREFIX (e.g. QUEUE_PREFIX=${prefix}-2), or point DATABASE_URL at that deployment's database; if that deployment is gone for good, free the prefix with: redis-cli DEL ${key}`,
  );
}

/** This database's random identity, made by the migration (drizzle/0008_*); recreated if the row was lost. */
async function databaseIdentity(db: Database): Promise<string> {
  const read = async () => (await db.select({ id: deploymentIdentity.id }).from(deploymentIdentity))[0]?.id;
  const existing = await read();
  if (existing) return existing;
  await db.execute(sql`insert into deployment_identity default values on conflict do nothing`);
  const made = await read();
  if (!made) throw new Error('could not read or create this database’s deployment_identity row');
  return made;
}

function parseClaim(text: string | null): Claim | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Claim>;
    return typeof value.id === 'string' && typeof value.database === 'string'
      ? { id: value.id, database: value.database }
      : undefined;
  } catch {
    return undefined;
  }
}

/** How often a running process puts its claim back if Redis lost it (a restart without data, a flush). */
const RECLAIM_EVERY_MS = 30_000;

/**
 * Claims the prefix (see claimNamespace), then keeps the claim: Redis may come back empty, and a claim
 * that is gone would let another database's process in beside this one. So the claim is made again
 * whenever `redis` reconnects and every RECLAIM_EVERY_MS. Should another deployment have taken the prefix
 * meanwhile, that is logged as an error each time it is seen (this process cannot safely share the queues,
 * and stopping on its own would drop the jobs in flight; its operator must act).
 */
export async function holdNamespace(options: {
  redis: Redis;
  db: Database;
  prefix: string;
  databaseUrl: string;
  logger: Logger;
  everyMs?: number;
}): Promise<{ id: string; stop(): Promise<void> }> {
  const { id } = await claimNamespace(options);
  let stopped = false;
  const reclaim = () => {
    if (stopped) return;
    // The id is this process's from the first claim: a reclaim asks Redis only, so it also holds while
    // PostgreSQL is away.
    claimNamespace({ ...options, id }).catch((error: unknown) => {
      if (error instanceof NamespaceClaimedError) options.logger.error(error.message);
      else options.logger.debug({ err: error }, 'could not check the QUEUE_PREFIX claim');
    });
  };
  options.redis.on('ready', reclaim);
  const timer = setInterval(reclaim, options.everyMs ?? RECLAIM_EVERY_MS);
  timer.unref();
  return {
    id,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      options.redis.off('ready', reclaim);
    },
  };
}
