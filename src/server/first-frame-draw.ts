/**
 * Draws one first frame (web/src/first-frame.ts) with ApexCharts' SSR renderer and wraps it for the
 * chart's container. Runs in the frame's worker thread (first-frame-worker.ts): a draw holds its thread for
 * ~30–300 ms, which the API's own thread must not spend.
 */
import { type FrameRequest, RESTORED_OTHER_VIEW } from '../../web/src/first-frame.ts';
import { type FrameData, firstFrameOptions } from '../../web/src/first-frame-options.ts';

type Render = (options: object, size: { width: number; height: number }) => Promise<string>;
let renderer: Promise<Render> | undefined;

/** ApexCharts' SSR build (2.4 MB), loaded with the first draw. */
function loadRenderer(): Promise<Render> {
  renderer ??= import('apexcharts/ssr').then(
    ({ default: ApexCharts }) =>
      (options, size) =>
        ApexCharts.renderToString(options as never, size),
  );
  return renderer;
}

/** The frame's markup for `request` from `data`; '' when there is nothing to draw. */
export async function drawFrame(data: FrameData, request: FrameRequest, localZone: string): Promise<string> {
  const options = firstFrameOptions(data, request, localZone);
  if (!options) return '';
  const render = await loadRenderer();
  return frameMarkup(await render(options, request), request);
}

/**
 * The frame wrapped for the chart's container: hidden from assistive technology and the keyboard (the live
 * chart is what they reach), hidden by a container query wherever the chart's box is not the size it was
 * drawn for (a resized window, a guessed size that was wrong): it would be clipped or misplaced, and hidden
 * while the page's controls show another view. Its `id` is what index.html's `<link rel="expect">` holds the
 * first paint for, so the frame is painted whole or not at all, never a few of its lines.
 */
export function frameMarkup(svg: string, request: FrameRequest): string {
  const { width, height, timeZone } = request;
  const slack = 4;
  const query = `(width < ${width - slack}px) or (width > ${width + slack}px) or (height < ${height - slack}px) or (height > ${height + slack}px)`;
  // The bytes are parsed before the first paint (an SVG path's `d` is a style property, parsed with the
  // page's styles), and each line is rastered once per tile it crosses: what a picture does not need goes.
  // A tenth of a pixel is finer than a screen shows; so is a point a quarter pixel off the line its
  // neighbours draw (about half of a line's points); pathFrom and pathTo (each a copy of `d`) are for
  // animating, and a picture does not animate.
  const picture = svg
    .replace(/ path(?:From|To)="[^"]*"/g, '')
    .replace(/(\d+\.\d)\d+/g, '$1')
    .replace(
      / d="([^"]*)"/g,
      (_attribute, d: string) =>
        ` d="${simplifyPolyline(d, PATH_TOLERANCE_PX)
          .replace(/ ?([MLZ]) /g, '$1')
          .replace(/(\d)\.0(?!\d)/g, '$1')}"`,
    )
    .replace(/ role="application"/g, '')
    .replace(/ tabindex="0"/g, '');
  return (
    `<div class="first-frame" id="first-frame" data-testid="first-frame" aria-hidden="true" data-size="${width}x${height}" data-times="${timeZone === null ? 'off' : 'on'}" data-zone="${timeZone ?? ''}">` +
    `<style>@container chart ${query} { .first-frame { display: none; } } ` +
    `:root:has(${RESTORED_OTHER_VIEW}) .first-frame { display: none; }</style>${picture}</div>`
  );
}

/** How far (px) a point may lie from the line drawn past it and still be left out of the frame's paths. */
export const PATH_TOLERANCE_PX = 0.25;

/**
 * A line path (`M` and `L` only, as ApexCharts draws a straight line series) without the points that lie
 * within `tolerance` px of the segment drawn in their place (Ramer–Douglas–Peucker, each subpath apart, so
 * a gap's `M` stays). Any other path comes back as it is.
 */
export function simplifyPolyline(d: string, tolerance: number): string {
  const step = /\s*([ML])\s*(-?(?:\d+\.?\d*|\.\d+))[\s,]+(-?(?:\d+\.?\d*|\.\d+))/y;
  const subpaths: PathPoint[][] = [];
  let end = 0;
  for (let match = step.exec(d); match; match = step.exec(d)) {
    const [, command, x, y] = match as unknown as [string, string, string, string];
    if (command === 'M') subpaths.push([]);
    const points = subpaths.at(-1);
    if (!points) return d; // an L before any M
    points.push({ x: Number(x), y: Number(y), text: `${x} ${y}` });
    end = step.lastIndex;
  }
  if (subpaths.length === 0 || d.slice(end).trim() !== '') return d;
  return subpaths
    .map(
      (points) =>
        `M ${keptPoints(points, tolerance)
          .map((point) => point.text)
          .join(' L ')}`,
    )
    .join(' ');
}

interface XY {
  x: number;
  y: number;
}

interface PathPoint extends XY {
  /** The coordinates as the path wrote them. */
  text: string;
}

function keptPoints(points: readonly PathPoint[], tolerance: number): PathPoint[] {
  if (points.length < 3) return [...points];
  const keep = new Uint8Array(points.length);
  keep[0] = 1;
  keep[points.length - 1] = 1;
  const spans: [number, number][] = [[0, points.length - 1]];
  for (let span = spans.pop(); span; span = spans.pop()) {
    const [from, to] = span;
    let farthest = -1;
    let distance = tolerance;
    for (let i = from + 1; i < to; i++) {
      const off = distanceToSegment(points[i]!, points[from]!, points[to]!);
      if (off > distance) {
        distance = off;
        farthest = i;
      }
    }
    if (farthest < 0) continue;
    keep[farthest] = 1;
    spans.push([from, farthest], [farthest, to]);
  }
  return points.filter((_point, i) => keep[i] === 1);
}

/** The distance from `p` to the segment from `a` to `b`. */
export function distanceToSegment(p: XY, a: XY, b: XY): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length2 = dx * dx + dy * dy;
  const t = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}
