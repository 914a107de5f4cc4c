import { describe, expect, it } from 'vitest';
import { distanceToSegment, simplifyPolyline } from './first-frame-draw.ts';

type XY = { x: number; y: number };

/** The subpaths of an `M`/`L` path as points. */
function parse(d: string): XY[][] {
  return d
    .split('M')
    .filter((part) => part.trim() !== '')
    .map((part) =>
      part.split('L').map((pair) => {
        const [x, y] = pair
          .trim()
          .split(/[\s,]+/)
          .map(Number);
        return { x: x!, y: y! };
      }),
    );
}

function path(points: readonly XY[]): string {
  return `M ${points.map((p) => `${p.x} ${p.y}`).join(' L ')}`;
}

/** How far the farthest of `points` lies from the polyline through `kept`. */
function worstOffset(points: readonly XY[], kept: readonly XY[]): number {
  let worst = 0;
  for (const p of points) {
    let nearest = Number.POSITIVE_INFINITY;
    for (let i = 1; i < kept.length; i++)
      nearest = Math.min(nearest, distanceToSegment(p, kept[i - 1]!, kept[i]!));
    worst = Math.max(worst, nearest);
  }
  return worst;
}

/** A seeded random walk two points a pixel, as a week of prices is drawn (M4 columns of 2 px). */
function walk(count: number, seed: number): XY[] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const points: XY[] = [];
  let y = 150;
  for (let i = 0; i < count; i++) {
    y = Math.min(300, Math.max(0, y + (random() - 0.5) * 3));
    points.push({ x: Math.round(i * 5) / 10, y: Math.round(y * 10) / 10 });
  }
  return points;
}

describe('simplifyPolyline', () => {
  it('keeps the ends of a straight line and drops the points along it', () => {
    expect(simplifyPolyline('M 0 10 L 1 11 L 2 12 L 3 13', 0.25)).toBe('M 0 10 L 3 13');
  });

  it('keeps a point that lies farther than the tolerance from the line drawn in its place', () => {
    expect(simplifyPolyline('M 0 0 L 1 0.3 L 2 0', 0.25)).toBe('M 0 0 L 1 0.3 L 2 0');
    expect(simplifyPolyline('M 0 0 L 1 0.2 L 2 0', 0.25)).toBe('M 0 0 L 2 0');
    // a column's low and high (M4) at one x: the spike is the picture
    expect(simplifyPolyline('M 0 5 L 2 5 L 2 40 L 2 5 L 4 5', 0.25)).toBe('M 0 5 L 2 5 L 2 40 L 2 5 L 4 5');
  });

  it('leaves every point of a walk within the tolerance of the line it draws, with about half the points', () => {
    for (const seed of [1, 2, 3]) {
      const points = walk(2_200, seed);
      const simplified = simplifyPolyline(path(points), 0.25);
      const [kept] = parse(simplified);
      expect(worstOffset(points, kept!)).toBeLessThanOrEqual(0.25);
      expect(kept!.length).toBeLessThan(points.length * 0.75);
      expect(kept![0]).toEqual(points[0]);
      expect(kept!.at(-1)).toEqual(points.at(-1));
    }
  });

  it('simplifies each subpath apart, so a gap in a line stays a gap', () => {
    const simplified = simplifyPolyline('M 0 0 L 1 1 L 2 2 M 10 0 L 11 1 L 12 2', 0.25);
    expect(simplified).toBe('M 0 0 L 2 2 M 10 0 L 12 2');
  });

  it('reads the compact form and keeps numbers as they were written', () => {
    expect(simplifyPolyline('M0 10.25L1,11.25L2 12.25', 0.25)).toBe('M 0 10.25 L 2 12.25');
  });

  it('returns a path with any other command, or none it can read, as it is', () => {
    for (const d of ['M 0 0 L 1 1 Z', 'M 0 0 C 1 1 2 2 3 3', 'L 1 1 L 2 2', '', 'M 0 0 L x 1']) {
      expect(simplifyPolyline(d, 0.25)).toBe(d);
    }
  });
});
