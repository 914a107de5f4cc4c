import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * What Redis does when it reaches `maxmemory`, or undefined when it will not say (CONFIG is disabled or
 * renamed on many managed services).
 */
export async function readEvictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}

/**
 * Logs a warning when Redis may evict keys: BullMQ keeps jobs, schedulers and locks as ordinary keys, so
 * under any policy but `noeviction` a full Redis silently drops scheduled work. Never throws: a Redis that
 * hides its configuration gets an info line saying the policy could not be checked.
 */
export async function warnIfRedisMayEvict(redis: Redis, logger: Logger): Promise<void> {
  const policy = await readEvictionPolicy(redis);
  if (policy === undefined) {
    logger.info('could not read Redis maxmemory-policy (CONFIG GET refused); it should be noeviction');
  } else if (policy !== 'noeviction') {
    logger.warn(
      { maxmemoryPolicy: policy },
      `Redis maxmemory-policy is ${policy}, not noeviction: BullMQ loses jobs and schedulers if Redis evicts ` +
        'keys. Set `maxmemory-policy noeviction` in redis.conf (or CONFIG SET maxmemory-policy noeviction).',
    );
  }
}
