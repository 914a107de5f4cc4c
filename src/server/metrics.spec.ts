import { describe, expect, it } from 'vitest';
import { renderPrometheus } from './metrics.ts';

describe('renderPrometheus', () => {
  it('writes help, type and labelled samples', () => {
    expect(
      renderPrometheus([
        {
          name: 'jobs',
          help: 'Jobs by state.',
          type: 'gauge',
          values: [{ labels: { queue: 'prices', state: 'failed' }, value: 2 }],
        },
        { name: 'up', help: 'Up.', type: 'gauge', values: [{ value: 1 }] },
      ]),
    ).toBe(
      '# HELP jobs Jobs by state.\n# TYPE jobs gauge\njobs{queue="prices",state="failed"} 2\n# HELP up Up.\n# TYPE up gauge\nup 1\n',
    );
  });
  it('escapes label values', () => {
    expect(
      renderPrometheus([
        { name: 'x', help: 'x', type: 'gauge', values: [{ labels: { a: 'q"\\\n' }, value: 1 }] },
      ]),
    ).toContain('x{a="q\\"\\\\\\n"} 1');
  });
});
