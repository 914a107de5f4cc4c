/**
 * The few ApexCharts internals the line chart reads (not in its public typings), in one place so an
 * ApexCharts upgrade has one file to check: the drawn scale and the plot's size (the overlay, the plot's
 * width for M4, the test hook's plot area and y-range), the series as it parsed them (`drawnLines`), and
 * its memory of a zoom of its own (`keepZoomFlag`).
 */

import type ApexCharts from 'apexcharts/core';
import type { PlotScale } from './chart-overlay.ts';

interface ApexInternals {
  w?: {
    globals: { minX: number; maxX: number; minY: number; maxY: number; colors?: string[] };
    layout: { gridWidth: number; gridHeight: number };
    seriesData?: { series: (number | null)[][]; seriesX: number[][]; seriesNames: string[] };
    config?: { stroke?: { dashArray?: number | number[] } };
    interact?: { zoomed?: boolean };
  };
}

function internals(chart: ApexCharts | undefined): ApexInternals['w'] {
  return (chart as unknown as ApexInternals | undefined)?.w;
}

/** Where the plot area is on screen, in CSS px (client coordinates). */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The lines as ApexCharts holds them after its last render, read back from it for the browser tests. */
export interface DrawnLines {
  /** How the series were painted: one SVG path each, or on one canvas. */
  renderer: 'svg' | 'canvas' | 'gpu';
  lines: {
    name: string;
    color: string;
    /** The stroke's dash length, 0 for a solid line. */
    dash: number;
    /** `[ms, value]` in the drawn unit; null where the line breaks. */
    points: [number, number | null][];
  }[];
}

/** The plot's width in px as ApexCharts last laid it out, or undefined before it has. */
export function gridWidth(chart: ApexCharts | undefined): number | undefined {
  return internals(chart)?.layout.gridWidth;
}

/** The y-range ApexCharts drew, in the drawn unit. */
export function drawnYRange(chart: ApexCharts | undefined): { min: number; max: number } | null {
  const w = internals(chart);
  return w ? { min: w.globals.minY, max: w.globals.maxY } : null;
}

/** The scale ApexCharts drew the plot at, for placing the overlay. */
export function plotScale(chart: ApexCharts | undefined, toAxis: (ms: number) => number): PlotScale | null {
  const w = internals(chart);
  if (!w) return null;
  const { minX, maxX, minY, maxY } = w.globals;
  const { gridWidth, gridHeight } = w.layout;
  return { minX, maxX, minY, maxY, gridWidth, gridHeight, toAxis };
}

/** Where the plot area of the chart drawn in `el` is on screen. */
export function plotArea(el: HTMLElement, chart: ApexCharts | undefined): PlotArea | null {
  const w = internals(chart);
  const svg = el.querySelector('svg.apexcharts-svg');
  const plot = el.querySelector('.apexcharts-graphical');
  const match = /translate\(\s*([-\d.]+)[ ,]+([-\d.]+)/.exec(plot?.getAttribute('transform') ?? '');
  if (!w || !svg || !match) return null;
  const box = svg.getBoundingClientRect();
  return {
    left: box.left + Number(match[1]),
    top: box.top + Number(match[2]),
    width: w.layout.gridWidth,
    height: w.layout.gridHeight,
  };
}

/** The series as ApexCharts parsed them for its last render, or null before it has any. */
export function drawnLines(chart: ApexCharts | undefined): DrawnLines | null {
  const w = internals(chart);
  const data = w?.seriesData;
  if (!chart || !w || !data) return null;
  const dashes = w.config?.stroke?.dashArray ?? 0;
  return {
    renderer: chart.getActiveRenderer(),
    lines: data.seriesNames.map((name, i) => ({
      name,
      color: w.globals.colors?.[i] ?? '',
      dash: Array.isArray(dashes) ? (dashes[i] ?? 0) : dashes,
      points: (data.series[i] ?? []).map(
        (value, j) => [data.seriesX[i]?.[j] ?? Number.NaN, value] as [number, number | null],
      ),
    })),
  };
}

/**
 * ApexCharts remembers a zoom of its own after a box or wheel zoom, and its keyboard navigation then keeps
 * the arrow keys inside that old range. The page sets the range itself on every draw: only the viewer's
 * own zoom (`zoomed`: not following live) counts as one.
 */
export function keepZoomFlag(chart: ApexCharts, zoomed: boolean): void {
  const interact = internals(chart)?.interact;
  if (interact) interact.zoomed = zoomed;
}
