/**
 * Lines or candles: the style radios, the candle chart and its view (candle-view.ts), and what steps aside
 * while candles are up. Built after the line chart's first draw (late-panels.ts), like the candles' own
 * chart library, which loads on first use: a page that opens on lines pays for neither before it draws.
 */
import { createCandleChart } from './candle-chart.ts';
import { type CandleView, createCandleView } from './candle-view.ts';
import { chartWidth } from './first-load.ts';
import type { GraphqlApi } from './graphql-api.ts';
import { required, safeSessionStorage } from './page-dom.ts';
import type { PriceChart } from './price-chart.ts';
import type { RangeKey } from './ranges.ts';
import { emptyChange } from './series-store.ts';
import type { ChartMode } from './value-scale.ts';

export type ChartStyle = 'line' | 'candles';

export interface CandleWiringOptions {
  api: Pick<GraphqlApi, 'candles'>;
  chart: PriceChart;
  range(): RangeKey;
  /** The mode's title and switches follow the style (view-controls.ts). */
  setMode(mode: ChartMode): void;
  /** "Back to live" belongs to the line chart: hidden while candles are up. */
  syncLiveButton(candlesUp: boolean): void;
}

export interface CandleWiring {
  view: CandleView;
  chart: ReturnType<typeof createCandleChart>;
  /** What the style radios show: a reload may restore the previous choice, as with the range. */
  picked(): ChartStyle;
  setStyle(style: ChartStyle): void;
}

export function wireCandles(options: CandleWiringOptions): CandleWiring {
  const { chart } = options;
  const chartEl = required('price-chart');
  const legendEl = required('chart-legend');
  const stylePicker = required<HTMLFieldSetElement>('style-picker');
  const modePicker = required<HTMLFieldSetElement>('mode-picker');
  const candleHead = required('candle-head');
  const candlePanes = required('candle-chart');
  const volumeNote = required('volume-note');
  const dotsNote = required('dots-note');

  const candleChart = createCandleChart(required('candle-price'), required('candle-volume'), {
    // Said only where candles are drawn without volume: why the pane is not there.
    onVolume: (drawn, volume) => {
      volumeNote.hidden = !drawn || volume;
    },
  });
  const view = createCandleView({
    api: options.api,
    chart: candleChart,
    select: required<HTMLSelectElement>('candle-ticker'),
    intervalEl: required('candle-interval'),
    range: options.range,
    window: () => chart.liveWindow(),
    width: () => chartWidth(candlePanes.hidden ? chartEl : candlePanes),
    storage: safeSessionStorage(),
  });

  function picked(): ChartStyle {
    return stylePicker.querySelector<HTMLInputElement>('input:checked')?.value === 'candles'
      ? 'candles'
      : 'line';
  }

  /**
   * Candles show one ticker in dollars: the lines, their legend, % Compare, the bands, the zoom's dots
   * and its way back to live are the line chart's, so they step aside while candles are up.
   */
  function setStyle(style: ChartStyle): void {
    const on = style === 'candles';
    view.setActive(on);
    chartEl.hidden = on;
    legendEl.hidden = on;
    candlePanes.hidden = !on;
    candleHead.hidden = !on;
    dotsNote.hidden = on;
    modePicker.disabled = on;
    if (!on) {
      volumeNote.hidden = true;
      chart.update({ ...emptyChange(), structural: true });
    }
    options.syncLiveButton(on);
    options.setMode(chart.view().mode);
  }
  stylePicker.addEventListener('change', () => setStyle(picked()));

  return { view, chart: candleChart, picked, setStyle };
}
