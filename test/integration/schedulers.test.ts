import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { closeQueues, createQueues, QUEUE_NAMES } from '../../jobs/queues.ts';
import { removeRedisPrefix, TEST_REDIS_URL, uniqueName } from '../helpers/services.ts';

const run = promisify(execFile);
const prefix = uniqueName('sched');

function upsertInChildProcess(every: number) {
  return run(process.execPath, [
    '--import',
    'tsx',
    'test/helpers/upsert-schedulers.ts',
    TEST_REDIS_URL,
    prefix,
    String(every),
  ]);
}

describe('job schedulers', () => {
  afterAll(() => removeRedisPrefix(prefix));

  it('two processes upserting at once leave exactly one scheduler per queue', async () => {
    await Promise.all([upsertInChildProcess(3_600_000), upsertInChildProcess(3_600_000)]);
    // A third, later start with a new interval updates the same schedulers rather than adding more.
    await upsertInChildProcess(7_200_000);

    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queues = createQueues(connection, prefix);
    try {
      for (const name of QUEUE_NAMES) {
        const schedulers = await queues[name].getJobSchedulers();
        expect(schedulers).toHaveLength(1);
        expect(schedulers[0]!.every).toBe(name === 'prices' ? 7_200_000 : 72_000_000);
        // And one pending job per scheduler, not one per process that upserted.
        const counts = await queues[name].getJobCounts('delayed', 'waiting', 'prioritized');
        expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(1);
      }
    } finally {
      await closeQueues(queues);
      connection.disconnect();
    }
  });
});
