/**
 * The controls over the line chart: the range, price or % compare, the log scale, the 52-week bands, whose
 * clock, the export menu and "back to live". Candles (candle-wiring.ts) come after the first draw
 * (late-panels.ts): until then the controls leave them out.
 *
 * A new range reads its history at once; picking another before the answer aborts the older read, so only
 * the range shown is merged.
 */
import { csvExportHref } from './export-links.ts';
import { pickedRange } from './first-load.ts';
import { required, safeLocalStorage } from './page-dom.ts';
import type { PageHistory } from './page-history.ts';
import type { PriceChart } from './price-chart.ts';
import { DEFAULT_RANGE, historyFrom, isRangeKey, type RangeKey, rangeChoice } from './ranges.ts';
import type { SeriesChange, SeriesStore } from './series-store.ts';
import type { TickerCards } from './ticker-cards.ts';
import { loadTimeZoneChoice, saveTimeZoneChoice, type TimeZoneChoice, viewerTimeZone } from './time-zone.ts';
import type { Timers } from './timers.ts';
import type { ChartMode } from './value-scale.ts';

/** What the controls reach of the parts built after the first draw; absent until then. */
export interface LateControls {
  candlesActive(): boolean;
  candlePngUrl(): Promise<string>;
  /** A new range or reconnect: the candles' window changed. */
  reloadCandles(): void;
  setTimeZone(choice: TimeZoneChoice): void;
}

export interface ViewControlsOptions {
  chart: PriceChart;
  store: SeriesStore;
  cards: Pick<TickerCards, 'refresh'>;
  history: PageHistory;
  apply(change: SeriesChange): void;
  loaded(): boolean;
  late(): LateControls | undefined;
  /** The alert firings over the picked range. */
  loadAlerts(): void;
  /** The clock changed (the last-tick label and the alert list follow it). */
  onTimeZone(choice: TimeZoneChoice): void;
  timers: Timers;
}

export interface ViewControls {
  range(): RangeKey;
  setMode(mode: ChartMode): void;
  /** Hides "back to live" (candles up) or shows it as the line chart's view says. */
  syncLiveButton(candlesUp: boolean): void;
  timeZone(): TimeZoneChoice;
}

export function wireViewControls(options: ViewControlsOptions): ViewControls {
  const { chart, store, cards, history, timers } = options;
  const taglineEl = required('tagline');
  const chartTitleEl = required('chart-title');
  const liveButton = required<HTMLButtonElement>('back-to-live');
  const rangePicker = required<HTMLFieldSetElement>('range-picker');
  const modePicker = required<HTMLFieldSetElement>('mode-picker');
  const bandsToggle = required<HTMLInputElement>('bands-toggle');
  const logToggle = required<HTMLInputElement>('log-toggle');
  const zonePicker = required<HTMLSelectElement>('time-zone');
  const bandsNote = required('bands-note');
  const exportMenu = required<HTMLDetailsElement>('export-menu');
  const exportCsv = required<HTMLAnchorElement>('export-csv');
  const exportPng = required<HTMLButtonElement>('export-png');
  const candlesActive = () => options.late()?.candlesActive() === true;

  // the browser may restore a previous choice of the radios on a reload: start from what they show
  let range: RangeKey = pickedRange(rangePicker);

  // ---- range --------------------------------------------------------------------------------------------

  let rangeLoad: AbortController | undefined;
  async function pickRange(next: RangeKey): Promise<void> {
    range = next;
    const choice = rangeChoice(next);
    taglineEl.textContent = `Live prices · ${choice.description}`;
    chart.setRange(next);
    liveButton.hidden = true;
    cards.refresh();
    if (!options.loaded()) return; // the first load asks for the current range
    options.late()?.reloadCandles();
    options.loadAlerts();
    rangeLoad?.abort();
    const controller = new AbortController();
    rangeLoad = controller;
    const from = historyFrom(next, timers.now());
    try {
      await history.load(store.tickers(), from, undefined, controller.signal);
      if (controller.signal.aborted) return;
      options.apply(store.pruneBefore(from));
      history.pruneBarsBefore(from);
      cards.refresh();
    } catch (error) {
      if (controller.signal.aborted) return;
      console.warn('stockstreamer: loading the range failed:', error);
      // Say so where the range is named, not only in the console: the chart still shows the previous data.
      const reason = error instanceof Error ? error.message : String(error);
      taglineEl.textContent = `Live prices · ${choice.description} · could not load: ${reason}`;
    }
  }
  rangePicker.addEventListener('change', (event) => {
    const value = (event.target as HTMLInputElement).value;
    if (isRangeKey(value)) void pickRange(value);
  });

  // ---- export -------------------------------------------------------------------------------------------

  // The CSV link is written when the menu opens: the lines shown, over the window shown.
  exportMenu.addEventListener('toggle', () => {
    if (!exportMenu.open) return;
    const shown = store.tickers().filter((ticker) => !chart.isHidden(ticker));
    exportCsv.href = csvExportHref(shown, chart.view().window ?? chart.liveWindow());
  });
  exportCsv.addEventListener('click', () => {
    exportMenu.open = false;
  });
  exportPng.addEventListener('click', async () => {
    const link = document.createElement('a');
    const late = options.late();
    link.href = late?.candlesActive() ? await late.candlePngUrl() : await chart.pngUrl();
    link.download = `stockstreamer-${new Date().toISOString().slice(0, 16).replace(':', '')}.png`;
    link.click();
    exportMenu.open = false;
  });

  // ---- bands, log scale, compare mode -------------------------------------------------------------------

  /** The bands' note says what the shading means: only while there is shading. */
  function showBands(on: boolean): void {
    chart.setBands(on);
    bandsNote.hidden = !chart.bandsShown();
    // Compare mode draws no bands: the switch says so rather than looking on and doing nothing.
    bandsToggle.disabled = chart.view().mode !== 'price' || candlesActive();
    logToggle.disabled = candlesActive();
    if (candlesActive()) bandsNote.hidden = true;
  }
  bandsToggle.addEventListener('change', () => showBands(bandsToggle.checked));
  logToggle.addEventListener('change', () => chart.setLogScale(logToggle.checked));

  function setMode(mode: ChartMode): void {
    chart.setMode(mode);
    showBands(bandsToggle.checked);
    chartTitleEl.textContent = candlesActive()
      ? 'Candles, US dollars'
      : mode === 'percent'
        ? 'Change since the start of the window, %'
        : 'Price, US dollars';
  }
  modePicker.addEventListener('change', (event) => {
    const value = (event.target as HTMLInputElement).value;
    if (value === 'price' || value === 'percent') setMode(value);
  });

  // ---- whose clock --------------------------------------------------------------------------------------

  const viewerOption = zonePicker.querySelector<HTMLOptionElement>('option[value="viewer"]');
  if (viewerOption) viewerOption.textContent = `yours (${viewerTimeZone().replace(/_/g, ' ')})`;
  let timeZone: TimeZoneChoice = 'viewer';
  function setTimeZone(choice: TimeZoneChoice): void {
    timeZone = choice;
    zonePicker.value = choice;
    chart.setTimeZone(choice);
    options.late()?.setTimeZone(choice);
    options.onTimeZone(choice);
  }
  zonePicker.addEventListener('change', () => {
    const choice: TimeZoneChoice = zonePicker.value === 'exchange' ? 'exchange' : 'viewer';
    saveTimeZoneChoice(safeLocalStorage(), choice);
    setTimeZone(choice);
  });
  setTimeZone(loadTimeZoneChoice(safeLocalStorage()));

  // ---- back to live -------------------------------------------------------------------------------------

  liveButton.addEventListener('click', () => {
    chart.backToLive();
    liveButton.hidden = true;
  });

  // a restored radio state (see `range` above) is applied before the first load
  if (range !== DEFAULT_RANGE) void pickRange(range);
  if (checkedValue(modePicker) === 'percent') setMode('percent');
  if (logToggle.checked) chart.setLogScale(true);

  return {
    range: () => range,
    setMode,
    syncLiveButton(candlesUp) {
      liveButton.hidden = candlesUp || chart.view().following;
    },
    timeZone: () => timeZone,
  };
}

function checkedValue(picker: ParentNode): string | undefined {
  return picker.querySelector<HTMLInputElement>('input:checked')?.value;
}
