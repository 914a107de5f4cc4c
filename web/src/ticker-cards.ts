/**
 * The latest-price cards above the chart, one per watched ticker in its series colour: logo, ticker and
 * company, last price, the change over the chart's window in dollars and percent, and where the price sits
 * in its 52-week range. While the watchlist is being edited each card also gets a remove button.
 */
import { formatDollars, formatPercent, formatSignedDollars } from './format.ts';
import { describeCloseChange, rangePosition, safeLogoUrl, windowChange } from './quote-math.ts';
import { priceAt } from './series-math.ts';
import type { SeriesStore } from './series-store.ts';
import type { Stock } from './types.ts';

export interface TickerCardsOptions {
  /** The colour of the ticker's line. */
  colorOf(ticker: string): string;
  /** Where "the window" starts, for the change figures (the chart's range, ending now). */
  windowStart(): number;
  /** The remove button was pressed (only shown while editing). */
  onRemove?(ticker: string): void;
}

export interface TickerCards {
  /** Rebuilds the cards for these stocks (watchlist order = series order = colour order). */
  render(stocks: readonly Stock[]): void;
  /** Refreshes the price and change of the given tickers (all when omitted) from the store. */
  refresh(tickers?: Iterable<string>): void;
  /** Dims a card whose line is hidden. */
  setHidden(ticker: string, hidden: boolean): void;
  /** Shows or hides the remove buttons. */
  setEditing(editing: boolean): void;
  /** Marks a card as being removed (its button disabled) or not. */
  setBusy(ticker: string, busy: boolean): void;
  /** Says on the card why its prices are not arriving (the provider's reason), or clears it. */
  setProblem(ticker: string, problem: string | undefined): void;
}

interface CardParts {
  stock: Stock;
  card: HTMLElement;
  price: HTMLElement;
  change: HTMLElement;
  /** The change since the previous close (or of the last session, while closed). */
  close: HTMLElement;
  range: HTMLElement;
  rangeMarker: HTMLElement;
  remove: HTMLButtonElement;
  problem: HTMLElement;
  lastPrice: number | null;
}

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

/** The logo, or the ticker's first letter on its colour when the logo fails to load. */
function logo(stock: Stock): HTMLElement {
  const holder = element('span', 'card-logo');
  const img = document.createElement('img');
  img.src = safeLogoUrl(stock.logoUrl, stock.ticker);
  img.alt = '';
  img.width = 36;
  img.height = 36;
  img.decoding = 'async';
  img.addEventListener(
    'error',
    () => holder.replaceChildren(element('span', 'card-monogram', stock.ticker.charAt(0))),
    { once: true },
  );
  holder.append(img);
  return holder;
}

export function createTickerCards(
  container: HTMLElement,
  store: SeriesStore,
  options: TickerCardsOptions,
): TickerCards {
  const cards = new Map<string, CardParts>();
  /** Kept across re-renders: a rebuilt card shows its problem before the next poll. */
  const problems = new Map<string, string>();
  let editing = false;

  function showProblem(parts: CardParts, problem: string | undefined): void {
    parts.problem.textContent = problem ?? '';
    parts.problem.hidden = problem === undefined;
    parts.problem.title = problem ?? '';
    parts.card.toggleAttribute('data-problem', problem !== undefined);
  }

  function refreshOne(ticker: string): void {
    const parts = cards.get(ticker);
    if (!parts) return;
    const { stock } = parts;
    const points = store.points(ticker);
    const drawnLast = points[points.length - 1];
    // The watchlist's own latest price wins when it is newer than the chart's last point: a history answer
    // still on its way (or one that missed a tick) must not make the card show an older price.
    const listed = stock.latestTime === null ? Number.NaN : Date.parse(stock.latestTime);
    const latest: readonly [number, number] | undefined =
      stock.latestPrice !== null && (!drawnLast || listed > drawnLast[0])
        ? [listed, stock.latestPrice]
        : drawnLast;
    const price = latest?.[1] ?? stock.latestPrice;
    parts.price.textContent = formatDollars(price);

    const change = windowChange(priceAt(points, options.windowStart()), latest?.[1]);
    const direction =
      !change || Math.round(change.percent * 100) === 0 ? 'flat' : change.percent > 0 ? 'up' : 'down';
    parts.change.textContent = change
      ? `${formatSignedDollars(change.absolute)} (${formatPercent(change.percent)})`
      : '—';
    parts.change.dataset.direction = direction;

    const sinceClose = describeCloseChange(price, stock.previousClose);
    parts.close.hidden = sinceClose === undefined;
    parts.close.textContent = sinceClose?.text ?? '';
    parts.close.dataset.direction = sinceClose?.direction ?? 'flat';

    const position = rangePosition(price, stock.low52Week, stock.high52Week);
    parts.range.hidden = position === undefined;
    if (position !== undefined) {
      parts.rangeMarker.style.setProperty('--at', `${(position * 100).toFixed(1)}%`);
      parts.range.setAttribute(
        'aria-label',
        `52-week range ${formatDollars(stock.low52Week)} to ${formatDollars(stock.high52Week)}; ` +
          `the price is ${Math.round(position * 100)}% of the way up`,
      );
      parts.range.dataset.position = position.toFixed(3);
    }

    if (price !== null && parts.lastPrice !== null && price !== parts.lastPrice) {
      // restart the flash animation: drop the attribute, force a style flush, set it again
      delete parts.price.dataset.flash;
      void parts.price.offsetWidth;
      parts.price.dataset.flash = price > parts.lastPrice ? 'up' : 'down';
    }
    parts.lastPrice = price;
  }

  function build(stock: Stock): CardParts {
    const card = element('article', 'card');
    card.dataset.testid = 'ticker-card';
    card.dataset.ticker = stock.ticker;
    card.style.setProperty('--series', options.colorOf(stock.ticker));
    card.setAttribute('aria-label', `${stock.ticker}, ${stock.companyName ?? stock.ticker}`);

    const ident = element('span', 'card-ident');
    ident.append(
      element('span', 'card-ticker', stock.ticker),
      element('span', 'card-name', stock.companyName ?? stock.ticker),
    );
    ident.lastElementChild?.setAttribute('title', stock.companyName ?? stock.ticker);

    const price = element('span', 'card-price');
    price.dataset.testid = 'latest-price';
    const change = element('span', 'card-change');
    change.dataset.testid = 'window-change';
    change.title = 'Change over the chart window';
    const quote = element('span', 'card-quote');
    quote.append(price, change);

    const range = element('div', 'card-range');
    range.dataset.testid = 'range-52w';
    range.setAttribute('role', 'img');
    const track = element('span', 'range-track');
    const rangeMarker = element('span', 'range-marker');
    track.append(rangeMarker);
    range.append(
      element('span', 'range-low', formatDollars(stock.low52Week)),
      track,
      element('span', 'range-high', formatDollars(stock.high52Week)),
    );
    range.title = '52-week low, where the price is now, and 52-week high';

    const remove = element('button', 'card-remove');
    remove.type = 'button';
    remove.dataset.testid = 'remove-ticker';
    remove.setAttribute('aria-label', `Remove ${stock.ticker} from the watchlist`);
    remove.title = `Remove ${stock.ticker} from the watchlist`;
    remove.textContent = '×';
    remove.hidden = !editing;
    remove.addEventListener('click', () => options.onRemove?.(stock.ticker));

    const close = element('p', 'card-close');
    close.dataset.testid = 'close-change';
    close.title =
      stock.previousClose?.basis === 'SESSION'
        ? 'The last session’s change, against the close before it (the market is closed)'
        : 'Change since the previous session’s close';

    const problem = element('p', 'card-problem');
    problem.dataset.testid = 'card-problem';
    problem.setAttribute('role', 'note');

    quote.append(close);
    card.append(logo(stock), ident, remove, quote, range, problem);
    const parts = { stock, card, price, change, close, range, rangeMarker, remove, problem, lastPrice: null };
    showProblem(parts, problems.get(stock.ticker));
    return parts;
  }

  return {
    render(stocks) {
      const previous = new Map(cards);
      cards.clear();
      const nodes = stocks.map((stock) => {
        const parts = build(stock);
        parts.lastPrice = previous.get(stock.ticker)?.lastPrice ?? null;
        if (previous.get(stock.ticker)?.card.classList.contains('is-hidden'))
          parts.card.classList.add('is-hidden');
        cards.set(stock.ticker, parts);
        return parts.card;
      });
      container.replaceChildren(...nodes);
      for (const ticker of cards.keys()) refreshOne(ticker);
    },
    refresh(tickers) {
      for (const ticker of tickers ?? cards.keys()) refreshOne(ticker);
    },
    setHidden(ticker, hidden) {
      cards.get(ticker)?.card.classList.toggle('is-hidden', hidden);
    },
    setEditing(next) {
      editing = next;
      for (const parts of cards.values()) parts.remove.hidden = !next;
    },
    setProblem(ticker, problem) {
      if (problem === undefined) problems.delete(ticker);
      else problems.set(ticker, problem);
      const parts = cards.get(ticker);
      if (parts) showProblem(parts, problem);
    },
    setBusy(ticker, busy) {
      const parts = cards.get(ticker);
      if (!parts) return;
      parts.remove.disabled = busy;
      parts.card.classList.toggle('is-busy', busy);
    },
  };
}
