import { sql } from 'drizzle-orm';
import { retentionHorizon } from '../domain/retention.ts';
import type { Database } from './client.ts';

/** Day partitions are named by their UTC day (drizzle/0011_*): stock_prices_p20261205. */
const PARTITION_NAME = /^stock_prices_p(\d{4})(\d{2})(\d{2})$/;

/** Days ahead of today kept made, so that a write near midnight, or a clock a little ahead, has its day. */
export const PARTITION_DAYS_AHEAD = 7;

export interface PartitionReport {
  /** Where raw ticks now begin (undefined: kept for ever). */
  horizon: Date | undefined;
  /** The UTC days (YYYY-MM-DD) dropped by this run. */
  dropped: string[];
  /** Day partitions of stock_prices after the run. */
  partitions: number;
}

export interface TickPartitions {
  /**
   * Moves the raw horizon to `retainDays` whole UTC days before today's (never back: a day dropped is
   * gone), makes the partitions from it to PARTITION_DAYS_AHEAD days ahead, and drops those behind it.
   * Each drop is `DETACH PARTITION … CONCURRENTLY` then `DROP TABLE`: no lock a writer or reader waits on,
   * no row trigger (the rollup keeps those minutes), no dead rows. A detach interrupted half-way (the
   * process killed) is finished by the next run. Idempotent, and safe from several processes: the
   * horizon only moves forward and a day already gone is skipped.
   */
  maintain(options: { now: Date; retainDays: number | 'forever' }): Promise<PartitionReport>;
  /** How many day partitions exist, and the oldest day they hold (for /metrics). */
  stats(): Promise<{ partitions: number; oldestDay?: Date }>;
}

type PartitionRow = {
  name: string;
  detaching: boolean;
};

function dayOf(name: string): Date | undefined {
  const match = PARTITION_NAME.exec(name);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
}

export function createTickPartitions(db: Database): TickPartitions {
  const list = async (): Promise<PartitionRow[]> => {
    const result = await db.execute<PartitionRow>(sql`
      select c.relname as name, i.inhdetachpending as detaching
      from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
      where i.inhparent = 'stock_prices'::regclass
      order by c.relname`);
    return result.rows.filter((row) => PARTITION_NAME.test(row.name));
  };

  return {
    async maintain({ now, retainDays }) {
      const wanted = retentionHorizon(now, retainDays);
      const moved = await db.execute<{ horizon: Date | string | null }>(sql`
        update stock_prices_retention
        set horizon = greatest(horizon, ${wanted ? wanted.toISOString() : null}::timestamptz)
        returning horizon`);
      const stored = moved.rows[0]?.horizon;
      const horizon = stored ? new Date(stored) : undefined;
      const today = now.toISOString().slice(0, 10);
      // From the horizon (or today, when kept for ever) to the days ahead; the function skips what exists.
      await db.execute(sql`
        select stock_prices_add_partitions(
          ${(horizon ?? now).toISOString().slice(0, 10)}::date,
          ${today}::date + ${PARTITION_DAYS_AHEAD}::int)`);
      const dropped: string[] = [];
      if (horizon) {
        for (const { name, detaching } of await list()) {
          const day = dayOf(name)!;
          if (day.getTime() + 86_400_000 > horizon.getTime()) continue;
          // The name matched PARTITION_NAME: safe to put in the statement as an identifier.
          await db.execute(
            sql.raw(
              `alter table stock_prices detach partition "${name}" ${detaching ? 'finalize' : 'concurrently'}`,
            ),
          );
          await db.execute(sql.raw(`drop table "${name}"`));
          dropped.push(day.toISOString().slice(0, 10));
        }
      }
      return { horizon, dropped, partitions: (await list()).length };
    },

    async stats() {
      const rows = await list();
      const days = rows.map((row) => dayOf(row.name)!.getTime());
      return {
        partitions: rows.length,
        oldestDay: days.length > 0 ? new Date(Math.min(...days)) : undefined,
      };
    },
  };
}
