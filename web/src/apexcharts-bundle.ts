/**
 * ApexCharts with only what the chart uses: the line type, y-axis annotations (the 52-week bands), the
 * zoom/pan toolbar, the OS-following theme tokens, keyboard navigation (a focusable chart, arrow keys
 * from point to point) and the PNG export (5 KB gzipped; a chart registers its features when it is
 * created, so the export cannot be fetched on first use), and the canvas series renderer, which paints a
 * line chart of many points (chart-options.ts, `CANVAS_POINTS`). Loaded with a dynamic `import()` by price-chart.ts,
 * so the page's first requests for data go out while this, by far the largest part of the page's code,
 * is still downloading and compiling.
 */
import ApexCharts from 'apexcharts/core';
import 'apexcharts/line';
import 'apexcharts/features/annotations';
import 'apexcharts/features/toolbar';
import 'apexcharts/features/facet';
import 'apexcharts/features/exports';
import 'apexcharts/features/keyboard';
import 'apexcharts/features/renderer-canvas';

export { ApexCharts };
