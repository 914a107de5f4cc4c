import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoadBalancer } from '../helpers/load-balancer.ts';
import { freePort } from '../helpers/ports.ts';
import { createSentinelRedis } from '../helpers/redis-sentinel.ts';
import {
  caseDir,
  type Exit,
  INTERVAL_MS,
  type RoleProcess,
  roleEnv,
  SEED,
  SYMBOLS,
  spawnRole,
} from '../helpers/roles.ts';
import { createPrivatePostgres, sleep } from '../helpers/servers.ts';
import { uniqueName } from '../helpers/services.ts';
import { settleSlots } from './helpers/fault-case.ts';
import { openTickStream, tally, watchSlots } from './helpers/observe.ts';
import { recordRow } from './helpers/report.ts';

/** How long the faults go on; FAULTS_SCALE_OUT_MS makes a longer (or shorter) run. */
const CHAOS_MS = Number(process.env.FAULTS_SCALE_OUT_MS ?? 120_000);
const SUBSCRIBERS = 4;

/**
 * A subscriber as a browser tab behaves: a ticks stream through the load balancer; when the stream breaks
 * (its API died) it opens a new one through the load balancer, then asks `priceHistory` for what it missed
 * since the last tick it had. `seen` is every `TICKER@ms` it got, live or from history.
 */
function subscriber(lbUrl: string) {
  const seen = new Set<string>();
  const reconnects: {
    lostAt: number;
    backMs: number;
    fromHistory: number;
    /** Why the stream ended, and why the history could not be read, if it could not. */
    cause: string | undefined;
    historyError: string | undefined;
  }[] = [];
  let current = openTickStream(`${lbUrl}/graphql`);
  let closed = false;
  const lastSeen = () => Math.max(...[...seen].map((key) => Number(key.split('@')[1])));
  const follow = async (): Promise<void> => {
    for (;;) {
      const stream = current;
      const end = await stream.ended;
      for (const key of stream.seen) seen.add(key);
      if (closed) return;
      const lostAt = Date.now();
      const since = seen.size > 0 ? lastSeen() : lostAt - 60_000;
      // A tab waits before it reconnects (the page backs off from 1 s); 2.5 s here, so that ticks are
      // published while it is away and must come from the history.
      await sleep(2500);
      current = openTickStream(`${lbUrl}/graphql`);
      await current.ready;
      const backMs = Date.now() - lostAt;
      const history = await fetch(`${lbUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            'query ($from: DateTime!, $to: DateTime!) { priceHistory(from: $from, to: $to, width: 5000) { ticker times } }',
          variables: { from: new Date(since).toISOString(), to: new Date().toISOString() },
        }),
      })
        .then(async (r) => {
          const text = await r.text();
          try {
            return JSON.parse(text) as {
              data?: { priceHistory: { ticker: string; times: number[] }[] };
              errors?: { message: string }[];
            };
          } catch {
            return { data: undefined, errors: [{ message: `HTTP ${r.status}: ${text.slice(0, 100)}` }] };
          }
        })
        .catch((error: unknown) => ({ data: undefined, errors: [{ message: String(error) }] }));
      let fromHistory = 0;
      for (const series of history.data?.priceHistory ?? []) {
        for (const time of series.times) {
          const key = `${series.ticker}@${time}`;
          if (!seen.has(key)) fromHistory++;
          seen.add(key);
        }
      }
      reconnects.push({
        lostAt,
        backMs,
        fromHistory,
        cause: end.error,
        historyError: history.errors?.map((e) => e.message).join('; '),
      });
    }
  };
  const following = follow();
  return {
    seen,
    reconnects,
    ready: () => current.ready,
    /** Ticks of the live stream and history together, up to now. */
    all(): Set<string> {
      return new Set([...seen, ...current.seen]);
    },
    async close() {
      closed = true;
      current.close();
      await following;
    },
  };
}

/**
 * Case 4: the deployment grown past one process of each: two `api` processes behind Caddy and three
 * `worker` processes, on Redis behind Sentinel (a primary, a replica, three sentinels) and one PostgreSQL,
 * all private to the case. For CHAOS_MS at a 1 s price interval: a random worker is killed with SIGKILL
 * every few seconds (and started again at once, as systemd would), one API is killed with SIGKILL (and
 * started again 10 s later), the Redis primary is killed so that the sentinels fail over to the replica,
 * and PostgreSQL is restarted.
 *
 * Expected: every slot's ticks stored once with the provider's price (0 lost, 0 doubled); slots without
 * any tick only while no Redis primary answered (no process could run a job); every subscriber holds
 * every stored tick of its time: those on the surviving API from the live stream, those on the killed one
 * after reconnecting through the load balancer to the other and asking the history for the gap.
 */
describe('fault: scale-out under chaos', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
    cleanups.length = 0;
  });

  it(`4: 2 APIs behind Caddy, 3 workers, Sentinel Redis; kills, a failover and a PostgreSQL restart for ${CHAOS_MS / 1000} s`, async () => {
    const folder = await caseDir('scale-out');
    let failed = true;
    cleanups.push(() => (failed ? Promise.resolve(console.log(`kept ${folder.dir}`)) : folder.remove()));
    const redis = await createSentinelRedis(path.join(folder.dir, 'redis'));
    cleanups.push(() => redis.dispose());
    const postgres = await createPrivatePostgres(path.join(folder.dir, 'postgres'));
    cleanups.push(() => postgres.dispose());
    const prefix = uniqueName('scale');
    const sentinelOptions = {
      sentinels: redis.sentinels.split(',').map((address) => {
        const [host, port] = address.split(':');
        return { host: host!, port: Number(port) };
      }),
      name: redis.masterName,
    };
    const ledger = watchSlots(sentinelOptions, prefix);
    cleanups.push(() => ledger.stop());

    const processes: RoleProcess[] = [];
    const exits: { role: string; exit: Exit }[] = [];
    cleanups.push(() => Promise.all(processes.map((p) => p.dispose())));
    let count = 0;
    const spawn = (role: 'api' | 'worker', port = 0) => {
      const child = spawnRole(
        role,
        roleEnv(
          {
            DATABASE_URL: postgres.url,
            REDIS_SENTINELS: redis.sentinels,
            REDIS_SENTINEL_MASTER: redis.masterName,
            QUEUE_PREFIX: prefix,
          },
          folder.dir,
          {
            PORT: String(port),
            // Caddy is the one proxy in front; every subscriber comes from this machine.
            TRUST_PROXY: '1',
            MAX_SUBSCRIPTIONS_PER_CLIENT: '1000',
            RATE_LIMIT_PER_MINUTE: '100000',
          },
        ),
        path.join(folder.dir, `${role}-${++count}.log`),
      );
      processes.push(child);
      void child.exited.then((exit) => exits.push({ role, exit }));
      return child;
    };

    /**
     * As systemd's Restart=on-failure: a process that exits with an error before it is ready (a worker
     * started while PostgreSQL restarts cannot migrate) is started again a second later. Resolves with the
     * process once it is ready.
     */
    let failedStarts = 0;
    const supervised = async (role: 'api' | 'worker', port = 0): Promise<RoleProcess> => {
      for (;;) {
        const child = spawn(role, port);
        try {
          await child.ready;
          return child;
        } catch {
          failedStarts++;
          await sleep(1000);
        }
      }
    };

    const apiPorts = [await freePort(), await freePort()];
    const apis = apiPorts.map((port) => spawn('api', port));
    const workers = [spawn('worker'), spawn('worker'), spawn('worker')];
    await Promise.all([...apis, ...workers].map((p) => p.ready));
    const lb = await startLoadBalancer(
      path.join(folder.dir, 'caddy'),
      apiPorts.map((port) => `127.0.0.1:${port}`),
    );
    cleanups.push(() => lb.dispose());
    const subscribers = Array.from({ length: SUBSCRIBERS }, () => subscriber(lb.url));
    cleanups.push(() => Promise.all(subscribers.map((s) => s.close())));
    await Promise.all(subscribers.map((s) => s.ready()));
    await sleep(4 * INTERVAL_MS);
    const from = Math.min(...ledger.slots);
    const started = Date.now();

    // Workers: one killed every 4 to 10 s, started again at once; never the last one running.
    let chaos = true;
    let workerKills = 0;
    const killingWorkers = (async () => {
      while (chaos) {
        await sleep(4000 + Math.random() * 6000);
        if (!chaos) break;
        const index = Math.floor(Math.random() * workers.length);
        workers[index]!.signal('SIGKILL');
        await workers[index]!.exited;
        workerKills++;
        workers[index] = await supervised('worker');
      }
    })();

    // The API, the Redis primary and PostgreSQL, in turn, a quarter of the run apart.
    const quarter = CHAOS_MS / 4;
    await sleep(quarter);
    const apiKilledAt = Date.now();
    apis[1]!.signal('SIGKILL');
    await apis[1]!.exited;
    await sleep(10_000);
    apis[1] = await supervised('api', apiPorts[1]);

    await sleep(started + 2 * quarter - Date.now());
    const failoverAt = Date.now();
    await redis.failOver();
    const promotedAt = Date.now();

    await sleep(started + 3 * quarter - Date.now());
    const postgresDownAt = Date.now();
    await postgres.stop();
    const postgresBackAt = await postgres.start();

    await sleep(started + CHAOS_MS - Date.now());
    chaos = false;
    await killingWorkers;
    await sleep(3 * INTERVAL_MS);
    const to = Date.now();
    // A job killed mid-way waits out its lock (30 s) and the stalled check before it runs again.
    const count_ = () =>
      tally({
        databaseUrl: postgres.url,
        slots: ledger.slots,
        fetched: ledger.fetched,
        from,
        to,
        intervalMs: INTERVAL_MS,
        seed: SEED,
        symbols: SYMBOLS,
      });
    await ledger.poll();
    const figures = await settleSlots(sentinelOptions, prefix, count_, to, 150_000);
    await sleep(2 * INTERVAL_MS);

    // Which seconds have no tick at all, and whether a Redis primary was answering then.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const rows = (
      await client.query<{ stock_name: string; ms: string }>(
        `select stock_name, (extract(epoch from time) * 1000)::bigint as ms from stock_prices
         where time >= $1 and time <= $2`,
        [new Date(Math.floor(from / 1000) * 1000).toISOString(), new Date(to).toISOString()],
      )
    ).rows;
    await client.end();
    // By the second, as the tally counts: a tick's time is its slot's, which need not be a whole second.
    const storedSeconds = new Set(rows.map((r) => Math.floor(Number(r.ms) / 1000) * 1000));
    // Without a primary no job is made; after the promotion the clients find it within a reconnect delay,
    // and a scheduler whose last write died with the old primary (replication is asynchronous) is put
    // back by the workers' keeper: a few intervals.
    const noPrimary = (ms: number) => ms >= failoverAt - INTERVAL_MS && ms <= promotedAt + 3 * INTERVAL_MS;
    let gapsWithoutPrimary = 0;
    const gapsOtherwise: number[] = [];
    for (let ms = Math.floor(from / 1000) * 1000; ms <= to - INTERVAL_MS; ms += INTERVAL_MS) {
      if (storedSeconds.has(ms)) continue;
      if (noPrimary(ms)) gapsWithoutPrimary++;
      else gapsOtherwise.push(Math.round((ms - started) / 1000));
    }

    // Each subscriber against every tick stored from its first tick on.
    const outcomes = subscribers.map((s) => {
      const seen = s.all();
      const first = Math.min(...[...seen].map((key) => Number(key.split('@')[1])));
      const expected = rows.filter((r) => Number(r.ms) >= first).map((r) => `${r.stock_name}@${r.ms}`);
      const missedKeys = expected.filter((key) => !seen.has(key));
      if (missedKeys.length > 0 || s.reconnects.length > 0) {
        console.log(
          'subscriber',
          JSON.stringify({
            missed: missedKeys
              .slice(0, 12)
              .map((key) => `${key.split('@')[0]}@+${Number(key.split('@')[1]) - started}`),
            reconnects: s.reconnects.map((r) => ({ ...r, lostAt: r.lostAt - started })),
          }),
        );
      }
      return {
        missed: missedKeys.length,
        expected: expected.length,
        reconnects: s.reconnects,
      };
    });
    const moved = outcomes.filter((o) => o.reconnects.length > 0);
    const stayed = outcomes.filter((o) => o.reconnects.length === 0);

    chaos = false;
    for (const p of [...apis, ...workers]) p.signal('SIGTERM');
    const lastExits = await Promise.all([...apis, ...workers].map((p) => p.exited));

    recordRow({
      case: `4 scale-out: 2 api + 3 worker, ${CHAOS_MS / 1000} s chaos`,
      ...figures,
      resume:
        `failover ${promotedAt - failoverAt} ms; reconnect ` +
        (moved.map((o) => `${o.reconnects[0]!.backMs}`).join('/') || '–') +
        ' ms',
      exitCodes: `${exits.filter((e) => e.exit.signal === 'SIGKILL').length}× SIGKILL, last: ${lastExits.map((e) => e.code).join(' ')}`,
      notes:
        `${workerKills} worker kills (${failedStarts} restarts failed while PostgreSQL was down and were retried), api 2 killed at +${Math.round((apiKilledAt - started) / 1000)} s, ` +
        `primary at +${Math.round((failoverAt - started) / 1000)} s, PostgreSQL restarted at ` +
        `+${Math.round((postgresDownAt - started) / 1000)} s (${postgresBackAt - postgresDownAt} ms); ` +
        `seconds without a tick: ${gapsWithoutPrimary} around the failover, ${gapsOtherwise.length} otherwise${gapsOtherwise.length ? ` (+${gapsOtherwise.join(' s, +')} s)` : ''}; ` +
        `subscribers on the surviving api missed ${stayed.map((o) => `${o.missed}/${o.expected}`).join(', ')}; ` +
        `moved through Caddy missed ${moved.map((o) => `${o.missed}/${o.expected} (${o.reconnects.reduce((n, r) => n + r.fromHistory, 0)} from history)`).join(', ')}`,
    });

    expect(exits.filter((e) => e.role === 'api' && e.exit.signal === 'SIGKILL')).toHaveLength(1);
    expect(figures.lostFetched).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.wrongPrice).toBe(0);
    expect(gapsOtherwise).toEqual([]);
    expect(moved.length).toBeGreaterThan(0);
    for (const outcome of moved) {
      expect(outcome.reconnects.reduce((n, r) => n + r.fromHistory, 0)).toBeGreaterThan(0);
    }
    expect(stayed.length).toBeGreaterThan(0);
    for (const outcome of outcomes) expect(outcome.missed).toBe(0);
    expect(lastExits.map((e) => e.code)).toEqual([0, 0, 0, 0, 0]);
    // No process died of an error that escaped every handler.
    expect(exits.filter((e) => e.exit.code !== null && e.exit.code !== 0)).toHaveLength(failedStarts);
    failed = false;
  });
});
