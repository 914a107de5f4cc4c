import { hashString } from './random.ts';
import { TICKER_PATTERN } from './symbols.ts';

/** Background colours that keep white text readable (contrast >= 4.5:1) on light and dark pages alike. */
const BACKGROUNDS = ['#1f5fae', '#7a3fb0', '#0f7a63', '#b0412e', '#8a5a00', '#2f6f2f', '#a02c6a', '#38598a'];

/**
 * A logo for a ticker that needs no outside host: a rounded square in a colour chosen from the ticker, with
 * up to four of its letters. Served by the app at /logos/{TICKER}.svg for providers that have no logos.
 * Returns undefined for anything that is not a ticker, so a path cannot inject markup into the SVG.
 */
export function renderMonogramSvg(ticker: string): string | undefined {
  if (!TICKER_PATTERN.test(ticker)) return undefined;
  const background = BACKGROUNDS[hashString(ticker) % BACKGROUNDS.length];
  const letters = ticker.replace(/[.-]/g, '').slice(0, 4);
  const fontSize = letters.length <= 2 ? 26 : letters.length === 3 ? 20 : 16;
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img"',
    ` aria-label="${ticker}">`,
    `<rect width="64" height="64" rx="14" fill="${background}"/>`,
    '<text x="32" y="33" text-anchor="middle" dominant-baseline="central" fill="#ffffff"',
    ` font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-weight="700"`,
    ` font-size="${fontSize}">${letters}</text>`,
    '</svg>',
  ].join('');
}

/** Where the app serves a ticker's monogram; what providers without logos report as the logo URL. */
export function monogramPath(ticker: string): string {
  return `/logos/${encodeURIComponent(ticker)}.svg`;
}
