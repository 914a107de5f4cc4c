/**
 * The chart's legend, drawn by the page rather than ApexCharts so that each entry can carry the company's
 * logo (the classic put logos at its lines' starts; six logos stacked at one x read worse than one beside
 * each name) and be a real toggle button: keyboard-reachable, `aria-pressed`, a visible focus ring.
 */
import { safeLogoUrl } from './quote-math.ts';

export interface LegendEntry {
  ticker: string;
  companyName: string;
  color: string;
  logoUrl: string | null;
}

export interface ChartLegend {
  render(entries: readonly LegendEntry[]): void;
  setHidden(ticker: string, hidden: boolean): void;
}

export function createChartLegend(
  container: HTMLElement,
  options: { onToggle(ticker: string): void },
): ChartLegend {
  const buttons = new Map<string, HTMLButtonElement>();
  const hidden = new Set<string>();

  return {
    render(entries) {
      buttons.clear();
      const items = entries.map((entry) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'legend-entry';
        button.dataset.testid = 'legend-entry';
        button.dataset.ticker = entry.ticker;
        button.style.setProperty('--series', entry.color);
        button.setAttribute('aria-pressed', String(!hidden.has(entry.ticker)));
        button.title = `Show or hide ${entry.companyName} (${entry.ticker})`;

        const swatch = document.createElement('span');
        swatch.className = 'legend-swatch';
        const logo = document.createElement('img');
        logo.className = 'legend-logo';
        logo.src = safeLogoUrl(entry.logoUrl, entry.ticker);
        logo.alt = '';
        logo.width = 18;
        logo.height = 18;
        logo.decoding = 'async';
        logo.addEventListener('error', () => logo.remove(), { once: true });
        const ticker = document.createElement('span');
        ticker.className = 'legend-ticker';
        ticker.textContent = entry.ticker;
        button.setAttribute('aria-label', `${entry.ticker}, ${entry.companyName}`);
        button.append(swatch, logo, ticker);
        button.addEventListener('click', () => options.onToggle(entry.ticker));
        buttons.set(entry.ticker, button);

        const item = document.createElement('li');
        item.append(button);
        return item;
      });
      container.replaceChildren(...items);
    },
    setHidden(ticker, isHidden) {
      if (isHidden) hidden.add(ticker);
      else hidden.delete(ticker);
      buttons.get(ticker)?.setAttribute('aria-pressed', String(!isHidden));
    },
  };
}
