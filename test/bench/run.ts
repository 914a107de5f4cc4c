/**
 * `npm run bench`: runs every benchmark against the real app on the real Redis and Postgres and prints one
 * table of figures, each against a baseline measured in the same run. Not part of `npm test`: these
 * machines are shared and noisy, so figures are medians and percentiles over repeated runs, read as ratios.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- P4           only the ones named
 *   npm run bench -- --write      also put this run's rows into the table in docs/BENCHMARKS.md, replacing
 *                                 those of the same benches and keeping the others
 */
import { readFile, writeFile } from 'node:fs/promises';
import { alertsBench } from './alerts.ts';
import { backfillBench } from './backfill.ts';
import { exportBench } from './export.ts';
import { fanoutBench, fanoutTenThousandBench, slotToEventBench } from './fanout.ts';
import { type Bench, type BenchRow, machine, mergeBenchBlock, noteLine, renderTable } from './harness.ts';
import { historyReadBench } from './history-read.ts';
import { ingestBench } from './ingest.ts';
import { partitionDropBench, storageBench } from './retention.ts';
import { scaleApiBench, scaleWorkerBench } from './scale.ts';
import { schedulerBench } from './scheduler.ts';

const BENCHES: Bench[] = [
  backfillBench,
  fanoutBench,
  fanoutTenThousandBench,
  ingestBench,
  historyReadBench,
  schedulerBench,
  slotToEventBench,
  alertsBench,
  exportBench,
  partitionDropBench,
  storageBench,
  scaleApiBench,
  scaleWorkerBench,
];

const args = process.argv.slice(2);
const write = args.includes('--write');
const only = args.filter((a) => !a.startsWith('--'));
const selected = BENCHES.filter((b) => only.length === 0 || only.includes(b.id));

const rows: BenchRow[] = [];
for (const bench of selected) {
  process.stderr.write(`\n▶ ${bench.id}: ${bench.title}\n`);
  rows.push(...(await bench.run()));
}
const table = renderTable(rows);
const notes = rows.filter((r) => r.note).map(noteLine);
const stamp = `Run ${new Date().toISOString()} on ${machine()}; clients and server share this machine.`;
process.stdout.write(`\n${stamp}\n\n${table}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`);

if (write) {
  // Merged by bench id: the rows of the benches that ran replace theirs, the others stay (mergeBenchBlock).
  const file = new URL('../../docs/BENCHMARKS.md', import.meta.url);
  const current = await readFile(file, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const at = current.indexOf(begin);
  const until = current.indexOf(end);
  const previous = at >= 0 && until > at ? current.slice(at + begin.length, until) : undefined;
  const body = `${begin}\n${mergeBenchBlock(previous, { stamp, ran: selected.map((b) => b.id), rows })}${end}`;
  const next =
    previous === undefined
      ? `${current.trimEnd()}\n\n${body}\n`
      : `${current.slice(0, at)}${body}${current.slice(until + end.length)}`;
  await writeFile(file, next);
  process.stderr.write(`\nmerged this run's rows into the table in docs/BENCHMARKS.md\n`);
}
// A missed target is reported in the table, not as a failed command: figures on a shared machine vary.
process.exit(0);
