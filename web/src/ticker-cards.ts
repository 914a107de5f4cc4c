/**
 * The row of ticker cards above the chart: logo, ticker, company, latest price and the change over the
 * window, in the ticker's series colour. A card is also a toggle for its line (like the chart's legend).
 */
import { type Direction, formatChange, formatDollars } from './format.ts';
import { seriesColor } from './palette.ts';
import type { SeriesStore } from './series-store.ts';
import type { Stock } from './types.ts';

export interface TickerCardsOptions {
  onToggle(ticker: string): void;
}

export interface TickerCards {
  /** Rebuilds the cards for these stocks (watchlist order = series order = colour order). */
  render(stocks: readonly Stock[]): void;
  /** Refreshes the price and change of the given tickers (all when omitted) from the store. */
  refresh(tickers?: Iterable<string>): void;
  setHidden(ticker: string, hidden: boolean): void;
}

interface CardParts {
  card: HTMLButtonElement;
  price: HTMLElement;
  change: HTMLElement;
  fallbackPrice: number | null;
  lastPrice: number | null;
}

const ARROWS: Record<Direction, string> = { up: '▲', down: '▼', flat: '' };

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The logo, or the ticker's first letter on its colour when there is no logo or it fails to load. */
function logo(stock: Stock): HTMLElement {
  const holder = element('span', 'card-logo');
  const monogram = () => {
    holder.replaceChildren(element('span', 'card-monogram', stock.ticker.charAt(0)));
  };
  if (!stock.logoUrl) {
    monogram();
    return holder;
  }
  const img = document.createElement('img');
  img.src = stock.logoUrl;
  img.alt = '';
  img.width = 32;
  img.height = 32;
  img.decoding = 'async';
  img.addEventListener('error', monogram, { once: true });
  holder.append(img);
  return holder;
}

export function createTickerCards(
  container: HTMLElement,
  store: SeriesStore,
  options: TickerCardsOptions,
): TickerCards {
  const cards = new Map<string, CardParts>();

  function refreshOne(ticker: string): void {
    const parts = cards.get(ticker);
    if (!parts) return;
    const latest = store.latest(ticker);
    const price = latest?.[1] ?? parts.fallbackPrice;
    parts.price.textContent = formatDollars(price);

    const change = formatChange(store.first(ticker)?.[1], latest?.[1]);
    parts.change.textContent = `${ARROWS[change.direction]} ${change.text}`.trim();
    parts.change.dataset.direction = change.direction;

    if (price !== null && parts.lastPrice !== null && price !== parts.lastPrice) {
      // restart the flash animation: drop the attribute, force a style flush, set it again
      delete parts.price.dataset.flash;
      void parts.price.offsetWidth;
      parts.price.dataset.flash = price > parts.lastPrice ? 'up' : 'down';
    }
    parts.lastPrice = price;
  }

  return {
    render(stocks) {
      cards.clear();
      const nodes = stocks.map((stock, index) => {
        const card = element('button', 'card');
        card.type = 'button';
        card.dataset.testid = 'ticker-card';
        card.dataset.ticker = stock.ticker;
        card.style.setProperty('--series', seriesColor(index));
        card.setAttribute('aria-pressed', 'true');
        card.title = `Show or hide ${stock.ticker} on the chart`;

        const ident = element('span', 'card-ident');
        ident.append(
          element('span', 'card-ticker', stock.ticker),
          element('span', 'card-name', stock.companyName ?? stock.ticker),
        );
        const price = element('span', 'card-price');
        price.dataset.testid = 'latest-price';
        const change = element('span', 'card-change');
        change.title = 'Change over the chart window';
        const quote = element('span', 'card-quote');
        quote.append(price, change);
        card.append(logo(stock), ident, quote);
        card.addEventListener('click', () => options.onToggle(stock.ticker));

        cards.set(stock.ticker, { card, price, change, fallbackPrice: stock.latestPrice, lastPrice: null });
        return card;
      });
      container.replaceChildren(...nodes);
      for (const ticker of cards.keys()) refreshOne(ticker);
    },
    refresh(tickers) {
      for (const ticker of tickers ?? cards.keys()) refreshOne(ticker);
    },
    setHidden(ticker, hidden) {
      cards.get(ticker)?.card.setAttribute('aria-pressed', String(!hidden));
    },
  };
}
