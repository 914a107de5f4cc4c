/**
 * The watchlist's cards as the server writes them into the page's HTML beside the chart's first frame
 * (src/server/first-frame.ts): the boxes ticker-cards.ts builds, with each ticker and company in its line's
 * colour and the figures' room held. The first paint then has the cards' room, and the chart under them
 * stays where it was painted when the page's code fills them in (without them it moved down by a row of
 * cards, ~170 px at 1280 px, a second after the week was on screen). ticker-cards.ts's first render
 * replaces them; a screen reader skips them (the real cards are what it reads).
 */
import { type WatchlistStock, watchedStocks } from './chart-frame.ts';
import { escapeHtml } from './format.ts';

/** Stand-in figures, as wide as the real card's usually are (ticker-cards.ts). */
const ROOM = {
  price: '$000.00',
  change: '+$00.00 (+00.00%)',
  close: '▲ +$00.00 (+0.00%) since Fri close',
  low: '$000.00',
  high: '$000.00',
};

/** The cards of the watched (enabled) stocks, in the watchlist's order; '' when none is watched. */
export function cardPlaceholders(watchlist: readonly WatchlistStock[]): string {
  // The figures' room is held by figures of their usual width, which wrap as the real ones do at any card
  // width (the page's style hides them: they are not prices); the 52-week row only where the stock has a
  // range to show.
  const { price, change, close, low, high } = ROOM;
  return watchedStocks(watchlist)
    .map((stock) => {
      const range =
        stock.low52Week !== null && stock.high52Week !== null
          ? `<div class="card-range"><span class="range-low">${low}</span><span class="range-track"></span><span class="range-high">${high}</span></div>`
          : '';
      return (
        `<article class="card" data-placeholder aria-hidden="true" style="--series: ${stock.color}">` +
        `<span class="card-logo"></span>` +
        `<span class="card-ident"><span class="card-ticker">${escapeHtml(stock.ticker)}</span><span class="card-name">${escapeHtml(stock.companyName)}</span></span>` +
        `<span class="card-quote"><span class="card-price">${price}</span><span class="card-change">${change}</span><p class="card-close">${close}</p></span>` +
        `${range}</article>`
      );
    })
    .join('');
}
