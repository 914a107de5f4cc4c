/**
 * Keeping a keyboard reader's place across redraws. Every update rebuilds ApexCharts' SVG, its toolbar and
 * its keyboard navigation: without carrying the place over, each live tick would drop the focus to the
 * page and the next arrow key would start again from the first point. The place is kept as a ticker and a
 * time, not as indexes, which a new frame shifts. Reads and sets private fields of ApexCharts' keyboard
 * navigation (apexcharts/features/keyboard), checked against 7.9.
 */

import type ApexCharts from 'apexcharts/core';
import { drawnIndex, type Frame } from './chart-frame.ts';
import { upperBound } from './series-math.ts';
import type { Point } from './series-store.ts';

/** The part of ApexCharts' keyboard navigation a redraw must carry over. */
interface KeyboardCursor {
  active: boolean;
  seriesIndex: number;
  dataPointIndex: number;
  _tooltipDismissed: boolean;
  notePointerFocus(): void;
  _showCurrentPoint(): void;
}

function keyboardCursor(chart: ApexCharts): KeyboardCursor | null {
  return (chart as unknown as { keyboardNavigation?: KeyboardCursor | null }).keyboardNavigation ?? null;
}

/** Where a keyboard reader is: the point's ticker and time, and whether Escape dismissed its tooltip. */
export interface KeyboardPlace {
  ticker: string;
  time: number;
  dismissed: boolean;
}

/** The index of the last point at or before `time` (0 when none is): where a resumed reader lands. */
export function pointAtOrBefore(points: readonly Point[], time: number): number {
  return Math.max(0, upperBound(points, time) - 1);
}

/** Where the keyboard reader of the chart in `el` is, or null when the chart does not have the focus. */
export function keyboardPlace(el: HTMLElement, chart: ApexCharts, drawn: Frame | null): KeyboardPlace | null {
  const nav = keyboardCursor(chart);
  if (!nav?.active || !el.contains(document.activeElement)) return null;
  const series = drawn?.series[nav.seriesIndex];
  const point = series?.points[drawnIndex(series.drawn, nav.dataPointIndex)];
  return series && point ? { ticker: series.ticker, time: point[0], dismissed: nav._tooltipDismissed } : null;
}

/** Puts the keyboard cursor back at `place` in the frame just drawn (a fold or a new window may have moved it). */
export function resumeKeyboard(
  el: HTMLElement,
  chart: ApexCharts,
  frame: Frame | null,
  place: KeyboardPlace,
): void {
  const nav = keyboardCursor(chart);
  const svg = el.querySelector<SVGSVGElement>('svg.apexcharts-svg');
  const seriesIndex = frame?.series.findIndex((s) => s.ticker === place.ticker) ?? -1;
  const series = frame?.series[seriesIndex];
  const points = series?.points;
  if (!nav || !svg || !series || !points || points.length === 0) return;
  const index = pointAtOrBefore(points, place.time);
  // Focus as a pointer would, so ApexCharts does not jump to its first point on focus; then put the
  // cursor back and show it (unless Escape had dismissed it).
  nav.notePointerFocus();
  svg.focus({ preventScroll: true });
  nav.active = true;
  nav._tooltipDismissed = place.dismissed;
  nav.seriesIndex = seriesIndex;
  nav.dataPointIndex = Math.max(0, series.drawn.indexOf(index));
  if (!place.dismissed) nav._showCurrentPoint();
}

/** The toolbar button that has the focus (ApexCharts' `*-icon` class), so a redraw can give it back. */
export function focusedTool(el: HTMLElement): string | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !el.contains(active)) return null;
  const cls = [...active.classList].find((c) => c.startsWith('apexcharts-') && c.endsWith('-icon'));
  return cls ?? null;
}

/** Gives the focus back to the toolbar button `focusedTool` noted before the redraw. */
export function refocusTool(el: HTMLElement, tool: string): void {
  el.querySelector<HTMLElement>(`.apexcharts-toolbar .${tool}`)?.focus({ preventScroll: true });
}
