import { describe, expect, it } from 'vitest';
import { alertPath, markerPath, type PlotScale } from './chart-overlay.ts';

/** A 100 × 50 px plot over x 0…1000 (axis = instant + 0) and y 0…10. */
const scale: PlotScale = {
  minX: 0,
  maxX: 1000,
  minY: 0,
  maxY: 10,
  gridWidth: 100,
  gridHeight: 50,
  toAxis: (ms) => ms,
};

describe('markerPath', () => {
  it('draws a dot per point at its place in the plot (y grows downward)', () => {
    expect(markerPath([[500, 5]], scale)).toBe('M47.4 25.0a2.6 2.6 0 1 0 5.2 0a2.6 2.6 0 1 0 -5.2 0');
  });

  it('keeps dots within a radius of the plot and drops the rest', () => {
    const inside = markerPath([[1010, 0]], scale); // 1 px right of the plot
    expect(inside).not.toBe('');
    expect(
      markerPath(
        [
          [1100, 5],
          [500, 11],
          [-100, 5],
        ],
        scale,
      ),
    ).toBe('');
  });

  it('places points on the chosen clock’s axis', () => {
    const shifted = markerPath([[0, 5]], { ...scale, toAxis: (ms) => ms + 500 });
    expect(shifted).toBe(markerPath([[500, 5]], scale));
  });
});

describe('alertPath', () => {
  it('draws a triangle above each point, pointing at it', () => {
    expect(alertPath([[500, 5]], scale)).toBe('M50.0 23.0l-5 -10h10z');
  });

  it('draws none outside the plot', () => {
    expect(
      alertPath(
        [
          [1010, 5],
          [500, -0.1],
        ],
        scale,
      ),
    ).toBe('');
  });
});
