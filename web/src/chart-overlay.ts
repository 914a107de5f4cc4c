/**
 * The change markers and alert triangles, drawn as one SVG group into ApexCharts' plot after each of its
 * renders: ApexCharts' own markers cost a DOM node per point and follow its series indexes, while these are
 * one path per ticker, placed with the scale ApexCharts drew (chart-internals.ts).
 */

import type { Frame } from './chart-frame.ts';
import type { Point } from './series-store.ts';

/** Marker radius in px. */
const MARKER_RADIUS = 2.6;
/** Half the width of an alert marker (a triangle over the tick that fired it), in px. */
const ALERT_MARKER_PX = 5;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** The plot's drawn scale: axis ranges (x on ApexCharts' axis, y in the drawn unit) and size in px. */
export interface PlotScale {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  gridWidth: number;
  gridHeight: number;
  /** An instant as an x value on the axis (time-zone.ts). */
  toAxis(ms: number): number;
}

function usable(s: PlotScale): boolean {
  return s.maxX > s.minX && s.maxY > s.minY && s.gridWidth > 0 && s.gridHeight > 0;
}

/**
 * `shape(x, y)` for each point (`[ms, value]`) that lands within `margin` px of the plot, joined: one path's
 * data in the plot's px, y growing downward.
 */
function pathAt(
  points: readonly Point[],
  s: PlotScale,
  margin: number,
  shape: (x: number, y: number) => string,
): string {
  const sx = s.gridWidth / (s.maxX - s.minX);
  const sy = s.gridHeight / (s.maxY - s.minY);
  let d = '';
  for (const [time, value] of points) {
    const x = (s.toAxis(time) - s.minX) * sx;
    const y = s.gridHeight - (value - s.minY) * sy;
    if (x < -margin || x > s.gridWidth + margin || y < -margin || y > s.gridHeight + margin) continue;
    d += shape(x, y);
  }
  return d;
}

/** Path data for a dot at each point inside the plot, give or take a radius. */
export function markerPath(points: readonly Point[], s: PlotScale): string {
  const r = MARKER_RADIUS;
  return pathAt(
    points,
    s,
    r,
    (x, y) => `M${(x - r).toFixed(1)} ${y.toFixed(1)}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`,
  );
}

/** Path data for a triangle above each point inside the plot, pointing down at it. */
export function alertPath(points: readonly Point[], s: PlotScale): string {
  const a = ALERT_MARKER_PX;
  return pathAt(points, s, 0, (x, y) => `M${x.toFixed(1)} ${(y - 2).toFixed(1)}l${-a} ${-2 * a}h${2 * a}z`);
}

function tickerPath(className: string, ticker: string, color: string, d: string): SVGPathElement {
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('class', className);
  path.setAttribute('data-ticker', ticker);
  path.setAttribute('d', d);
  path.style.setProperty('--series', color);
  return path;
}

/**
 * Replaces the overlay in `el`'s plot with `frame`'s markers and alert triangles; removes it when there is
 * no frame or no usable scale.
 */
export function drawOverlay(el: HTMLElement, frame: Frame | null, scale: PlotScale | null): void {
  const plot = el.querySelector('.apexcharts-graphical');
  if (!plot) return;
  plot.querySelector(':scope > .ss-markers')?.remove();
  if (!frame || frame.series.length === 0 || !scale || !usable(scale)) return;
  const group = document.createElementNS(SVG_NS, 'g');
  group.setAttribute('class', 'ss-markers');
  group.setAttribute('aria-hidden', 'true');
  frame.series.forEach((series, i) => {
    const markers = markerPath(frame.markerPoints[i] ?? [], scale);
    if (markers !== '') group.append(tickerPath('ss-marker', series.ticker, series.color, markers));
    // Where an alert fired: a triangle above the line, pointing at the tick that fired it.
    const alerts = alertPath(frame.alertPoints[i] ?? [], scale);
    if (alerts !== '') group.append(tickerPath('ss-alert-marker', series.ticker, series.color, alerts));
  });
  plot.append(group);
}
