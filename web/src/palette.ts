/**
 * Series colours. One fixed list serves both colour schemes: every colour is a mid-tone chosen to keep at
 * least 3:1 contrast (WCAG's bar for graphics) against the light surface and the dark one, so a line never
 * has to change colour when the viewer's scheme flips, and a ticker keeps its colour across the cards, the
 * legend and the chart. The spec checks the contrast claim.
 */
export const SERIES_PALETTE: readonly string[] = Object.freeze([
  '#2f80ed', // blue
  '#e8590c', // orange
  '#099268', // green
  '#d6336c', // raspberry
  '#845ef7', // violet
  '#a67c00', // ochre
  '#0c8599', // teal
  '#7a8a00', // olive
]);

/** The surfaces the lines are drawn on (keep in step with `--surface` in styles.css). */
export const LIGHT_SURFACE = '#ffffff';
export const DARK_SURFACE = '#161b22';

/** The colour of the series at `index`; the palette repeats past its end (a watchlist can be long). */
export function seriesColor(index: number): string {
  const n = SERIES_PALETTE.length;
  return SERIES_PALETTE[((index % n) + n) % n]!;
}

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG relative luminance of a `#rrggbb` colour. */
export function relativeLuminance(hex: string): number {
  const match = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!match) throw new Error(`relativeLuminance wants a #rrggbb colour, got "${hex}"`);
  const n = Number.parseInt(match[1]!, 16);
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/** WCAG contrast ratio of two `#rrggbb` colours, from 1 (same) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * Colours for the watched tickers that stay put while the watchlist changes: each ticker prefers the slot of
 * its place in the whole watchlist (`all`, removed entries included, in the order they were added), so
 * removing one line does not repaint the others; a ticker whose slot is taken by an earlier one gets the
 * next free slot, so no two visible lines share a colour while the palette lasts.
 */
export function assignSeriesColors(all: readonly string[], watched: readonly string[]): Map<string, string> {
  const n = SERIES_PALETTE.length;
  const taken = new Set<number>();
  const colors = new Map<string, string>();
  for (const ticker of watched) {
    const at = all.indexOf(ticker);
    let slot = (((at === -1 ? colors.size : at) % n) + n) % n;
    for (let tries = 0; tries < n && taken.has(slot); tries++) slot = (slot + 1) % n;
    if (taken.size < n) taken.add(slot);
    colors.set(ticker, SERIES_PALETTE[slot]!);
  }
  return colors;
}
