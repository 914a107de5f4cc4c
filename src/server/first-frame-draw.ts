/**
 * Draws one first frame (web/src/first-frame.ts) with ApexCharts' SSR renderer and wraps it for the
 * chart's container. Runs in the frame's worker thread (first-frame-worker.ts): a draw holds its thread for
 * ~30–300 ms, which the API's own thread must not spend.
 */
import type { FrameRequest } from '../../web/src/first-frame.ts';
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
 * chart is what they reach), and hidden by a container query wherever the chart's box is not the size it
 * was drawn for (a resized window, a guessed size that was wrong): it would be clipped or misplaced.
 */
export function frameMarkup(svg: string, request: FrameRequest): string {
  const { width, height, timeZone } = request;
  const slack = 4;
  const query = `(width < ${width - slack}px) or (width > ${width + slack}px) or (height < ${height - slack}px) or (height > ${height + slack}px)`;
  // The bytes are parsed before the first paint (an SVG path's `d` is a style property, parsed with the
  // page's styles): what a picture does not need goes. A tenth of a pixel is finer than a screen shows;
  // pathFrom and pathTo (each a copy of `d`) are for animating, and a picture does not animate.
  const picture = svg
    .replace(/ path(?:From|To)="[^"]*"/g, '')
    .replace(/(\d+\.\d)\d+/g, '$1')
    .replace(/ d="[^"]*"/g, (d) => d.replace(/ ?([MLZ]) /g, '$1').replace(/(\d)\.0(?!\d)/g, '$1'))
    .replace(/ role="application"/g, '')
    .replace(/ tabindex="0"/g, '');
  return (
    `<div class="first-frame" data-testid="first-frame" aria-hidden="true" data-size="${width}x${height}" data-times="${timeZone === null ? 'off' : 'on'}" data-zone="${timeZone ?? ''}">` +
    `<style>@container chart ${query} { .first-frame { display: none; } }</style>${picture}</div>`
  );
}
