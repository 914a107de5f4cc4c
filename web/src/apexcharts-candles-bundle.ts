/**
 * ApexCharts' candlestick and bar types, for the candle chart (candle-chart.ts), with the same features
 * the line chart registers that the candle chart uses (OS-following theme, PNG export). Loaded only when a
 * viewer first picks candles; the core it shares with apexcharts-bundle.ts is one chunk, loaded once.
 */
import ApexCharts from 'apexcharts/core';
import 'apexcharts/candlestick';
import 'apexcharts/bar';
import 'apexcharts/features/facet';
import 'apexcharts/features/exports';

export { ApexCharts };
