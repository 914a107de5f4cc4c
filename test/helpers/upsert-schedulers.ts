// Run as its own process by schedulers.test.ts: upserts the schedulers the way a starting worker does.
import { Redis } from 'ioredis';
import { closeQueues, createQueues, upsertSchedulers } from '../../jobs/queues.ts';

const [redisUrl, prefix, every] = process.argv.slice(2) as [string, string, string];
const interval = Number(every);
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queues = createQueues(connection, prefix);
await upsertSchedulers(queues, {
  priceIntervalMs: interval,
  logoIntervalMs: interval * 10,
  highlowIntervalMs: interval * 10,
});
await closeQueues(queues);
connection.disconnect();
