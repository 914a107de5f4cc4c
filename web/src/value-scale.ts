import { percentChange } from './series-math.ts';

/**
 * The unit a line is drawn in: dollars, or the % change from the window's start, each on a linear or a
 * log axis. Everything that lands on the y-axis (lines, provider bars, markers, alert triangles, bands and
 * the axis fit) goes through one `toValue`, so a log axis moves them all alike; tooltips and the keyboard
 * readout keep reading dollars from the points.
 *
 * On a log axis the drawn value is log10 of the price (or of price ÷ base when comparing), so equal
 * distances are equal ratios: a stock that doubled from $20 climbs as far as one that doubled from $400.
 * Every stored price is above zero (the providers' responses are refused otherwise), so each has a log.
 */

export type ChartMode = 'price' | 'percent';

export interface ValueScale {
  /** A price in dollars as drawn. */
  toValue(price: number): number;
}

/**
 * The scale for one line, or null when it cannot be drawn in this unit: compare mode needs a usable price
 * at the window's start, and a log axis a positive one (a non-positive price there has no logarithm).
 */
export function valueScale(mode: ChartMode, log: boolean, base: number | undefined): ValueScale | null {
  if (mode === 'percent') {
    if (base === undefined || base === 0 || !Number.isFinite(base)) return null;
    if (log) return base > 0 ? { toValue: (price) => Math.log10(price / base) } : null;
    return { toValue: (price) => percentChange(price, base) };
  }
  return log ? { toValue: (price) => Math.log10(price) } : { toValue: (price) => price };
}

/** A value rounded to `digits` significant digits (the labels of a log axis: `$158`, not `$158.49`). */
export function significant(value: number, digits: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number.parseFloat(value.toPrecision(digits));
}

/**
 * The drawn value an axis label shows, back in its own unit: dollars in price mode, % change in compare
 * mode. A log axis's evenly spaced ticks are ratios, so its labels are rounded to three significant digits.
 */
export function axisValue(mode: ChartMode, log: boolean, value: number): number {
  if (!log) return value;
  const ratio = 10 ** value;
  return mode === 'percent' ? significant((ratio - 1) * 100, 2) : significant(ratio, 3);
}
