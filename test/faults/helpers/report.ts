import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tally } from './observe.ts';

/** Where each case appends its row; the suite's teardown prints them all as one table. */
export const RESULTS_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test-results/faults.jsonl',
);

export interface CaseRow extends Partial<Tally> {
  case: string;
  /** From the end of the fault to the pipeline storing again (and to a live stream hearing of it). */
  resume?: string;
  /** Every process's exit code, in order of exit. */
  exitCodes?: string;
  notes?: string;
}

const COLUMNS: [keyof CaseRow, string][] = [
  ['case', 'case'],
  ['slots', 'slots'],
  ['ticksExpected', 'ticks expected'],
  ['ticksStored', 'ticks stored'],
  ['lostFetched', 'lost (fetched, not stored)'],
  ['slotsWithoutTick', 'slots without tick'],
  ['duplicated', 'duplicated'],
  ['wrongPrice', 'wrong price'],
  ['gapSlots', 'skipped slots'],
  ['resume', 'resume latency'],
  ['exitCodes', 'exit codes'],
  ['notes', 'notes'],
];

export function formatTable(rows: readonly CaseRow[]): string {
  const cells = rows.map((row) => COLUMNS.map(([key]) => (row[key] === undefined ? '–' : String(row[key]))));
  const widths = COLUMNS.map(([, title], i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(COLUMNS.map(([, title]) => title)),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
  ].join('\n');
}

/** Keeps a case's row for the final table and prints it now, so a single case shows its figures too. */
export function recordRow(row: CaseRow): void {
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify(row)}\n`);
  console.log(`\n${formatTable([row])}\n`);
}

export function readRows(): CaseRow[] {
  try {
    return readFileSync(RESULTS_FILE, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as CaseRow);
  } catch {
    return [];
  }
}
