/**
 * Number and time formatting for the page. Pure and locale-pinned where it matters: prices are US dollars,
 * so they read as `$1,234.56` whatever the browser's language; times follow the viewer's clock and locale
 * unless a test pins them.
 */

/** Shown wherever a number is missing (a ticker with no price yet). */
export const MISSING = '—';

const dollars = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

const wholeDollars = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 0,
  maximumFractionDigits: 0,
});

function isNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A price with cents: `$1,234.56`, `-$0.50`; {@link MISSING} for null, undefined and non-finite values. */
export function formatDollars(value: number | null | undefined): string {
  return isNumber(value) ? dollars.format(value) : MISSING;
}

/**
 * A y-axis label: whole dollars when the tick is a whole number (`$200`, `$1,000`: the usual nice scale, where
 * cents are noise), cents otherwise (`$151.50`, when zoomed in far enough for the ticks to need them).
 */
export function formatAxisDollars(value: number | null | undefined): string {
  if (!isNumber(value)) return '';
  // a tick of 151.4999999 is float noise for 151.50, not a whole number
  return Math.abs(value - Math.round(value)) < 0.005 ? wholeDollars.format(value) : dollars.format(value);
}

/**
 * Hours, minutes and seconds on a 24-hour clock, as the clock and the tooltip show them.
 * h23, not hour12: false, which some ICU versions render as "24:05:03" just after midnight.
 */
const CLOCK = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } as const;

/**
 * A clock time such as `14:05:03`, in the viewer's time zone unless one is given (tests pin `UTC`).
 * `locale` defaults to the browser's.
 */
export function formatClock(ms: number | null | undefined, timeZone?: string, locale?: string): string {
  if (!isNumber(ms)) return MISSING;
  return dateFormat({ ...CLOCK, timeZone }, locale).format(ms);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** An `Intl.DateTimeFormat`, made once per set of options: making one costs far more than using it. */
export function dateFormat(options: Intl.DateTimeFormatOptions, locale?: string): Intl.DateTimeFormat {
  const key = JSON.stringify([locale, options]);
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    dateFormats.set(key, format);
  }
  return format;
}

const trimmedDollars = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 3,
});

/**
 * A log axis's label: its tick already rounded to significant digits, shown without padding cents
 * (`$56.2`, `$158`, `$1,000`), since a log scale's ticks are ratios, not round dollar steps.
 */
export function formatLogAxisDollars(value: number | null | undefined): string {
  return isNumber(value) ? trimmedDollars.format(value) : '';
}

/** A signed dollar change with cents: `+$1.23`, `−$0.50`, `$0.00`; {@link MISSING} when not a number. */
export function formatSignedDollars(value: number | null | undefined): string {
  if (!isNumber(value)) return MISSING;
  const rounded = Math.round(value * 100) / 100;
  if (rounded === 0) return dollars.format(0);
  return `${rounded > 0 ? '+' : '−'}${dollars.format(Math.abs(rounded))}`;
}

/** A signed percentage with two decimals: `+1.23%`, `−0.50%`, `0.00%` (no sign when it rounds to zero). */
export function formatPercent(value: number | null | undefined): string {
  if (!isNumber(value)) return MISSING;
  const rounded = Math.round(value * 100) / 100;
  if (rounded === 0) return '0.00%';
  return `${rounded > 0 ? '+' : '−'}${Math.abs(rounded).toFixed(2)}%`;
}

/**
 * A y-axis label in compare mode: signed, as many decimals as the tick needs and no more (`+5%`, `−2.5%`,
 * `0%`, `+0.25%`).
 */
export function formatAxisPercent(value: number | null | undefined): string {
  if (!isNumber(value)) return '';
  const rounded = Math.round(value * 100) / 100;
  if (rounded === 0) return '0%';
  const text = Math.abs(rounded)
    .toFixed(2)
    .replace(/\.?0+$/, '');
  return `${rounded > 0 ? '+' : '−'}${text}%`;
}

/**
 * The tooltip's time: weekday, day, month and the clock to the second, e.g. `Mon 30 Nov, 14:05:03`, in the
 * viewer's time zone unless one is given.
 */
export function formatTooltipTime(
  ms: number | null | undefined,
  timeZone?: string,
  locale = 'en-GB',
): string {
  if (!isNumber(ms)) return MISSING;
  const parts = dateFormat(
    {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      ...CLOCK,
      timeZone,
    },
    locale,
  ).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')}, ${part('hour')}:${part('minute')}:${part('second')}`;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe to put into HTML (ApexCharts' custom tooltip takes a string of markup). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const EXCHANGE_TIME = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

const EXCHANGE_DAY = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short' });

/** The exchanges' weekday of an instant: "Fri" for Friday's 16:00 close, whatever the viewer's zone. */
export function formatExchangeDay(iso: string): string {
  return EXCHANGE_DAY.format(new Date(iso));
}

/** An instant as the exchanges' own clock shows it: "Mon 09:30 ET". */
export function formatExchangeTime(iso: string): string {
  return `${EXCHANGE_TIME.format(new Date(iso)).replace(',', '')} ET`;
}

/** The provider line while the US exchanges are closed: "market closed · last close Fri 16:00 ET · opens Mon 09:30 ET". */
export function describeClosedMarket(lastClose: string | null, nextOpen: string | null): string {
  return [
    'market closed',
    ...(lastClose ? [`last close ${formatExchangeTime(lastClose)}`] : []),
    ...(nextOpen ? [`opens ${formatExchangeTime(nextOpen)}`] : []),
  ].join(' · ');
}
