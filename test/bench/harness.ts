import { cpus, totalmem } from 'node:os';

/** One row of the benchmark table: a figure, the baseline measured in the same run, and their ratio. */
export interface BenchRow {
  id: string;
  measure: string;
  figure: string;
  baseline: string;
  /** baseline ÷ figure for "lower is better" measures, so > 1 means faster than the baseline. */
  ratio: number;
  target: string;
  met: boolean;
  note?: string;
}

export interface Bench {
  id: string;
  title: string;
  run(): Promise<BenchRow[]>;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

/** Runs `fn` `warmup` times unmeasured, then `runs` times, and returns each run's milliseconds. */
export async function timeRuns(runs: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

export function ms(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

export function bytes(value: number): string {
  if (value >= 1_048_576) return `${(value / 1_048_576).toFixed(1)} MB`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KB`;
  return `${value} B`;
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

const HEADER = ['#', 'measure', 'figure', 'baseline (same run)', 'ratio', 'target', 'met'];

function cellsOf(r: BenchRow): string[] {
  return [r.id, r.measure, r.figure, r.baseline, `${r.ratio.toFixed(1)}×`, r.target, r.met ? 'yes' : 'NO'];
}

/** A Markdown table, every column padded to its widest cell. */
function renderCells(lines: readonly string[][]): string {
  const widths = HEADER.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [row(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)].join('\n');
}

export function renderTable(rows: readonly BenchRow[]): string {
  return renderCells(rows.map(cellsOf));
}

/** A row's note line, as the table's block lists it under the table. */
export const noteLine = (row: BenchRow) => `- ${row.id}: ${row.note}`;

const STAMP_ROWS = /^Rows ([^:]+): (.*)$/;

/**
 * The text between docs/BENCHMARKS.md's bench markers after a run of the benches `ran` (`stamp` says when
 * and where): the rows and notes of those benches replace the ones with the same id, where those stood;
 * rows of benches that did not run are kept, and a bench new to the table goes at its end. While the table
 * mixes runs, each run's stamp names its rows (`Rows P10, P11: Run …`); a run of every bench in the table
 * leaves its stamp alone. Pure, so that `npm run bench -- P10 --write` can be trusted not to lose P1.
 */
export function mergeBenchBlock(
  previous: string | undefined,
  run: { stamp: string; ran: readonly string[]; rows: readonly BenchRow[] },
): string {
  const ran = new Set(run.ran);
  const lines = (previous ?? '').split('\n').map((line) => line.trim());
  const tableLines = lines.filter((line) => line.startsWith('|'));
  // Header and separator first; a row's cells between its pipes.
  const oldRows = tableLines.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim()),
  );
  const firstTable = lines.findIndex((line) => line.startsWith('|'));
  const stampLines = (firstTable < 0 ? lines : lines.slice(0, firstTable)).filter((l) => l !== '');
  const oldNotes = lines.filter((line) => line.startsWith('- '));
  const idOfNote = (note: string) => note.slice(2, note.indexOf(':'));

  // Rows in the table's order; a bench that ran takes the place of its first old row.
  const merged: { id: string; cells: string[] }[] = [];
  const placed = new Set<string>();
  const placeRun = (id: string) => {
    if (placed.has(id)) return;
    placed.add(id);
    for (const row of run.rows.filter((r) => r.id === id)) merged.push({ id, cells: cellsOf(row) });
  };
  for (const cells of oldRows) {
    const id = cells[0]!;
    if (ran.has(id)) placeRun(id);
    else merged.push({ id, cells });
  }
  for (const row of run.rows) placeRun(row.id);

  const ids = [...new Set(merged.map((r) => r.id))];
  const keptIds = ids.filter((id) => !ran.has(id));
  const notes = ids.flatMap((id) =>
    ran.has(id)
      ? run.rows.filter((r) => r.id === id && r.note).map(noteLine)
      : oldNotes.filter((note) => idOfNote(note) === id),
  );

  let stamps: string[];
  if (keptIds.length === 0) stamps = [run.stamp];
  else {
    // Old stamps keep the rows still theirs; one that named none (a whole run) takes the rest.
    const named = new Set<string>();
    const kept: string[] = [];
    let whole: string | undefined;
    for (const stamp of stampLines) {
      const match = STAMP_ROWS.exec(stamp);
      if (!match) {
        whole ??= stamp;
        continue;
      }
      const still = match[1]!
        .split(',')
        .map((id) => id.trim())
        .filter((id) => keptIds.includes(id));
      for (const id of still) named.add(id);
      if (still.length > 0) kept.push(`Rows ${still.join(', ')}: ${match[2]}`);
    }
    const rest = keptIds.filter((id) => !named.has(id));
    if (whole && rest.length > 0) kept.unshift(`Rows ${rest.join(', ')}: ${whole}`);
    const freshIds = ids.filter((id) => ran.has(id));
    stamps = freshIds.length > 0 ? [...kept, `Rows ${freshIds.join(', ')}: ${run.stamp}`] : kept;
  }
  const table = renderCells(merged.map((r) => r.cells));
  return `${stamps.join('\n\n')}\n\n${table}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
}
