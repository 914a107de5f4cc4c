import { describe, expect, it } from 'vitest';
import { type BenchRow, mergeBenchBlock, renderTable } from './harness.ts';

const row = (id: string, figure: string, note?: string): BenchRow => ({
  id,
  measure: `${id} measure`,
  figure,
  baseline: 'base',
  ratio: 1,
  target: 't',
  met: true,
  ...(note ? { note } : {}),
});

/** A block as `--write` leaves it: stamp, table, notes. */
const block = (stamp: string, rows: BenchRow[]) =>
  mergeBenchBlock(undefined, { stamp, ran: [...new Set(rows.map((r) => r.id))], rows });

const figures = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .map((cells) => `${cells[1]} ${cells[3]}`);

const stamps = (text: string) => text.split('\n').filter((line) => /^(Run|Rows) /.test(line));
const notes = (text: string) => text.split('\n').filter((line) => line.startsWith('- '));

describe('mergeBenchBlock', () => {
  const whole = block('Run A', [
    row('P1', 'one', 'p1 note'),
    row('P2', 'two a'),
    row('P2', 'two b'),
    row('P3', 'three', 'p3 note'),
  ]);

  it('writes the table of the run when there is none yet', () => {
    const text = block('Run A', [row('P1', 'one', 'p1 note')]);
    expect(stamps(text)).toEqual(['Run A']);
    expect(text).toContain(renderTable([row('P1', 'one', 'p1 note')]));
    expect(notes(text)).toEqual(['- P1: p1 note']);
  });

  it("replaces the rows of the benches that ran, where they stood, and keeps the others'", () => {
    const text = mergeBenchBlock(whole, { stamp: 'Run B', ran: ['P2'], rows: [row('P2', 'new two')] });
    expect(figures(text)).toEqual(['P1 one', 'P2 new two', 'P3 three']);
    expect(notes(text)).toEqual(['- P1: p1 note', '- P3: p3 note']);
  });

  it('appends a bench new to the table, with its note', () => {
    const text = mergeBenchBlock(whole, {
      stamp: 'Run B',
      ran: ['P10', 'P11'],
      rows: [row('P10', 'ten', 'p10 note'), row('P11', 'eleven')],
    });
    expect(figures(text)).toEqual(['P1 one', 'P2 two a', 'P2 two b', 'P3 three', 'P10 ten', 'P11 eleven']);
    expect(notes(text)).toEqual(['- P1: p1 note', '- P3: p3 note', '- P10: p10 note']);
  });

  it('names the rows of each stamp while the table mixes runs, and drops a stamp left with none', () => {
    const once = mergeBenchBlock(whole, { stamp: 'Run B', ran: ['P2'], rows: [row('P2', 'new two')] });
    expect(stamps(once)).toEqual(['Rows P1, P3: Run A', 'Rows P2: Run B']);
    const twice = mergeBenchBlock(once, {
      stamp: 'Run C',
      ran: ['P1', 'P2'],
      rows: [row('P1', 'newer one'), row('P2', 'newer two')],
    });
    expect(stamps(twice)).toEqual(['Rows P3: Run A', 'Rows P1, P2: Run C']);
    expect(figures(twice)).toEqual(['P1 newer one', 'P2 newer two', 'P3 three']);
  });

  it('keeps one plain stamp when the run covers every row of the table', () => {
    const once = mergeBenchBlock(whole, { stamp: 'Run B', ran: ['P2'], rows: [row('P2', 'new two')] });
    const all = mergeBenchBlock(once, {
      stamp: 'Run C',
      ran: ['P1', 'P2', 'P3'],
      rows: [row('P1', 'x'), row('P2', 'y'), row('P3', 'z')],
    });
    expect(stamps(all)).toEqual(['Run C']);
    expect(figures(all)).toEqual(['P1 x', 'P2 y', 'P3 z']);
  });

  it('pads every column to its widest cell across old and new rows', () => {
    const text = mergeBenchBlock(whole, {
      stamp: 'Run B',
      ran: ['P2'],
      rows: [row('P2', 'a figure much wider than any of the old ones')],
    });
    const widths = new Set(
      text
        .split('\n')
        .filter((line) => line.startsWith('|'))
        .map((line) => line.length),
    );
    expect(widths.size).toBe(1);
  });

  it('drops the rows of a bench that ran and returned none', () => {
    const text = mergeBenchBlock(whole, { stamp: 'Run B', ran: ['P3'], rows: [] });
    expect(figures(text)).toEqual(['P1 one', 'P2 two a', 'P2 two b']);
    expect(notes(text)).toEqual(['- P1: p1 note']);
  });
});
