import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatTable, RESULTS_FILE, readRows } from './helpers/report.ts';

/** Starts the run with an empty results file, and ends it with every case's figures in one table. */
export default function setup() {
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, '');
  const started = Date.now();
  return () => {
    const rows = readRows();
    if (rows.length === 0) return;
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    process.stdout.write(`\nFault suite: ${rows.length} cases in ${minutes} min\n\n${formatTable(rows)}\n\n`);
  };
}
