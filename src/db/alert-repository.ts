import { and, asc, count, desc, eq, gt, gte, inArray, lte, sql } from 'drizzle-orm';
import type { AlertKind, AlertRuleSpec } from '../domain/alert-rule.ts';
import type { Tick } from '../domain/tick.ts';
import type { Database } from './client.ts';
import { alertFirings, alertRules } from './schema.ts';

export interface AlertRule extends AlertRuleSpec {
  id: number;
  paused: boolean;
  armed: boolean;
  lastFiredAt: Date | null;
  createdAt: Date;
}

/** One firing: the rule (as it was), the tick that fired it. */
export interface AlertFiring {
  id: number;
  ruleId: number;
  ticker: string;
  kind: AlertKind;
  threshold: number | null;
  windowS: number | null;
  price: number;
  time: Date;
}

export interface AlertRepository {
  create(spec: AlertRuleSpec): Promise<AlertRule>;
  count(): Promise<number>;
  /** A page of rules in id order: up to `first` with ids above `after`. */
  list(page: { after: number; first: number }): Promise<AlertRule[]>;
  /** The rule after the change, or undefined when there is no such rule. */
  setPaused(id: number, paused: boolean): Promise<AlertRule | undefined>;
  remove(id: number): Promise<boolean>;
  /**
   * Judges every unpaused rule on the batch's tickers against each ticker's newest tick, in one statement,
   * and records the firings. Only stored ticks are judged: the batch names (ticker, time) and the price is
   * read from stock_prices, so a job's data (editable in Bull Board) cannot make a rule fire. Stale-data
   * rules are judged at `asOf` (the price job's slot) against their ticker's newest stored price. Exactly once per crossing: rows are locked in id order, a rule only judges a
   * tick newer than the newest it judged (`evaluated_through`), and `(rule_id, arm_seq)` is unique, so a
   * retried job, a late job or two workers racing over the same ticks record one firing. Returns how many
   * rules were judged and the firings recorded by this call.
   */
  evaluate(
    ticks: readonly Pick<Tick, 'ticker' | 'time'>[],
    asOf?: Date,
  ): Promise<{ judged: number; fired: AlertFiring[] }>;
  /**
   * Runs `announce` over the firings nobody has announced yet (up to `limit`, oldest first), then marks
   * them announced, in one transaction holding their rows: a racing worker skips them, and when `announce`
   * throws they stay unannounced for the next run (at least once, never lost).
   */
  announcePending(announce: (firings: AlertFiring[]) => Promise<void>, limit?: number): Promise<number>;
  /** The log, newest first: per ticker (all when omitted) over [from, to]. */
  firings(query: {
    tickers?: readonly string[];
    from: Date;
    to: Date;
    limit: number;
  }): Promise<AlertFiring[]>;
}

type RuleRow = typeof alertRules.$inferSelect;
type FiringRow = typeof alertFirings.$inferSelect;

function toRule(row: RuleRow): AlertRule {
  return {
    id: row.id,
    ticker: row.ticker,
    kind: row.kind as AlertKind,
    threshold: row.threshold,
    windowS: row.windowS,
    cooldownS: row.cooldownS,
    paused: row.paused,
    armed: row.armed,
    lastFiredAt: row.lastFiredAt,
    createdAt: row.createdAt,
  };
}

function toFiring(
  row: Pick<FiringRow, 'id' | 'ruleId' | 'ticker' | 'kind' | 'threshold' | 'windowS' | 'price' | 'tickTime'>,
): AlertFiring {
  return {
    id: row.id,
    ruleId: row.ruleId,
    ticker: row.ticker,
    kind: row.kind as AlertKind,
    threshold: row.threshold === null ? null : Number(row.threshold),
    windowS: row.windowS,
    price: Number(row.price),
    time: new Date(row.tickTime),
  };
}

export function createAlertRepository(db: Database): AlertRepository {
  return {
    async create(spec) {
      const [row] = await db.insert(alertRules).values(spec).returning();
      return toRule(row!);
    },

    async count() {
      const [row] = await db.select({ n: count() }).from(alertRules);
      return row?.n ?? 0;
    },

    async list({ after, first }) {
      const rows = await db
        .select()
        .from(alertRules)
        .where(gt(alertRules.id, after))
        .orderBy(asc(alertRules.id))
        .limit(first);
      return rows.map(toRule);
    },

    async setPaused(id, paused) {
      const [row] = await db.update(alertRules).set({ paused }).where(eq(alertRules.id, id)).returning();
      return row && toRule(row);
    },

    async remove(id) {
      const rows = await db.delete(alertRules).where(eq(alertRules.id, id)).returning({ id: alertRules.id });
      return rows.length > 0;
    },

    async evaluate(ticks, asOf) {
      if (ticks.length === 0 && asOf === undefined) return { judged: 0, fired: [] };
      // Tick time, not the wall clock, drives the cooldown: a retried job judges exactly as the first
      // attempt would have. A condition that cannot be judged (no price a window ago, no 52-week range
      // yet) counts as false, which arms the rule.
      const result = await db.execute<{
        judged: string;
        fired:
          | Pick<
              FiringRow,
              'id' | 'ruleId' | 'ticker' | 'kind' | 'threshold' | 'windowS' | 'price' | 'tickTime'
            >[]
          | null;
      }>(sql`
        with batch as (
          select distinct on (p.stock_name) p.stock_name as ticker, p.price, p.time
          from unnest(
            ${sql.param(ticks.map((t) => t.ticker))}::text[],
            ${sql.param(ticks.map((t) => t.time.toISOString()))}::timestamptz[]
          ) as b(ticker, time)
          join stock_prices as p on p.stock_name = b.ticker and p.time = b.time
          order by p.stock_name, p.time desc
        ),
        moments as (
          select ticker, price, time, null::timestamptz as last_time, false as clock from batch
          union all
          -- Stale-data rules are judged at the job's time against the ticker's newest stored price.
          select s.ticker, last.price, ${asOf?.toISOString() ?? null}::timestamptz, last.time, true
          from (select distinct ticker from alert_rules where kind = 'stale' and not paused) as s
          cross join lateral (
            select price, time from stock_prices where stock_name = s.ticker order by time desc limit 1
          ) as last
          where ${asOf?.toISOString() ?? null}::timestamptz is not null
        ),
        candidates as (
          select r.id, r.ticker, r.kind, r.threshold, r.window_s, r.armed, r.arm_seq, r.cooldown_s,
                 r.last_fired_at, b.price, b.time,
                 coalesce(case r.kind
                   when 'above' then b.price >= r.threshold
                   when 'below' then b.price <= r.threshold
                   when 'high52' then b.price > h.high_val52wk
                   when 'low52' then b.price < h.low_val52wk
                   when 'stale' then b.last_time < b.time - make_interval(secs => r.window_s)
                   when 'move' then (
                     select case when r.threshold > 0 then b.price >= p.price * (1 + r.threshold / 100)
                                 else b.price <= p.price * (1 + r.threshold / 100) end
                     from stock_prices as p
                     where p.stock_name = r.ticker and p.time <= b.time - make_interval(secs => r.window_s)
                     order by p.time desc
                     limit 1)
                 end, false) as met
          from alert_rules as r
          join moments as b on b.ticker = r.ticker and b.clock = (r.kind = 'stale')
          left join stock_highlow as h on h.stock_name = r.ticker
          where not r.paused and (r.evaluated_through is null or r.evaluated_through < b.time)
          order by r.id
          for update of r
        ),
        decided as (
          select c.*, (c.met and c.armed and (c.last_fired_at is null
                       or c.time >= c.last_fired_at + make_interval(secs => c.cooldown_s))) as fires
          from candidates as c
        ),
        fired as (
          insert into alert_firings (rule_id, arm_seq, ticker, kind, threshold, window_s, price, tick_time)
          select id, arm_seq, ticker, kind, threshold, window_s, price, time from decided where fires
          on conflict (rule_id, arm_seq) do nothing
          returning id, rule_id as "ruleId", ticker, kind, threshold, window_s as "windowS", price,
                    tick_time as "tickTime"
        ),
        updated as (
          update alert_rules as r
          set evaluated_through = d.time,
              armed = case when not d.met then true when d.fires then false else r.armed end,
              arm_seq = case when not d.met and not r.armed then r.arm_seq + 1 else r.arm_seq end,
              last_fired_at = case when d.fires then d.time else r.last_fired_at end
          from decided as d
          where r.id = d.id
          returning r.id
        )
        select (select count(*) from updated) as judged, (select json_agg(fired) from fired) as fired`);
      const row = result.rows[0];
      return { judged: Number(row?.judged ?? 0), fired: (row?.fired ?? []).map(toFiring) };
    },

    async announcePending(announce, limit = 500) {
      return db.transaction(async (tx) => {
        const rows = await tx
          .select()
          .from(alertFirings)
          .where(sql`${alertFirings.announcedAt} is null`)
          .orderBy(asc(alertFirings.id))
          .limit(limit)
          .for('update', { skipLocked: true });
        if (rows.length === 0) return 0;
        await announce(rows.map(toFiring));
        await tx
          .update(alertFirings)
          .set({ announcedAt: sql`now()` })
          .where(
            inArray(
              alertFirings.id,
              rows.map((r) => r.id),
            ),
          );
        return rows.length;
      });
    },

    async firings({ tickers, from, to, limit }) {
      const rows = await db
        .select()
        .from(alertFirings)
        .where(
          and(
            tickers ? inArray(alertFirings.ticker, [...tickers]) : undefined,
            gte(alertFirings.tickTime, from),
            lte(alertFirings.tickTime, to),
          ),
        )
        .orderBy(desc(alertFirings.tickTime), desc(alertFirings.id))
        .limit(limit);
      return rows.map(toFiring);
    },
  };
}
