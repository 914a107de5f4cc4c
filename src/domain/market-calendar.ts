/**
 * The regular sessions of the US stock exchanges (NYSE and Nasdaq keep the same calendar): Monday to
 * Friday 9:30–16:00 New York time, except the holidays and early closes below. A data table, kept by hand
 * from the exchanges' published calendars: extend it each year (NYSE publishes about three years ahead).
 * Past its last year only weekends are known, and `calendarKnownThrough` says so.
 */

/** Full-day closures, New York dates. */
const HOLIDAYS = new Set([
  // 2025
  // 2025-01-09: a national day of mourning (President Carter), closed by the exchanges at short notice.
  '2025-01-01',
  '2025-01-09',
  '2025-01-20',
  '2025-02-17',
  '2025-04-18',
  '2025-05-26',
  '2025-06-19',
  '2025-07-04',
  '2025-09-01',
  '2025-11-27',
  '2025-12-25',
  // 2026
  '2026-01-01',
  '2026-01-19',
  '2026-02-16',
  '2026-04-03',
  '2026-05-25',
  '2026-06-19',
  '2026-07-03',
  '2026-09-07',
  '2026-11-26',
  '2026-12-25',
  // 2027
  '2027-01-01',
  '2027-01-18',
  '2027-02-15',
  '2027-03-26',
  '2027-05-31',
  '2027-06-18',
  '2027-07-05',
  '2027-09-06',
  '2027-11-25',
  '2027-12-24',
]);

/** Early closes at 13:00 New York time. */
const EARLY_CLOSES = new Set([
  '2025-07-03',
  '2025-11-28',
  '2025-12-24',
  '2026-11-27',
  '2026-12-24',
  '2027-11-26',
]);

/** The last year the table above covers. */
export const calendarKnownThrough = 2027;

const OPEN_MINUTES = 9 * 60 + 30;
const CLOSE_MINUTES = 16 * 60;
const EARLY_CLOSE_MINUTES = 13 * 60;

const NEW_YORK = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
  hourCycle: 'h23',
});

interface NewYorkTime {
  /** YYYY-MM-DD */
  date: string;
  year: number;
  month: number;
  day: number;
  minutes: number;
}

function newYorkTime(atMs: number): NewYorkTime {
  const p = Object.fromEntries(NEW_YORK.formatToParts(new Date(atMs)).map((x) => [x.type, x.value]));
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    minutes: Number(p.hour) * 60 + Number(p.minute),
  };
}

/** The New York calendar month of an instant, as "2026-12". */
export function newYorkMonth(atMs: number): string {
  return newYorkTime(atMs).date.slice(0, 7);
}

/** The UTC instant of a New York wall-clock time (minutes after midnight) on a New York date. */
export function newYorkInstant(year: number, month: number, day: number, minutes: number): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  // New York is 4 or 5 hours behind UTC; read the offset at a first guess and correct by it.
  const guess = wall + 5 * 3_600_000;
  const seen = newYorkTime(guess);
  const seenWall = Date.UTC(seen.year, seen.month - 1, seen.day, 0, seen.minutes);
  return guess + (wall - seenWall);
}

/** One trading day's session, or undefined when the exchanges are closed all day. */
export interface Session {
  date: string;
  openMs: number;
  closeMs: number;
  earlyClose: boolean;
}

function sessionOnDay(year: number, month: number, day: number): Session | undefined {
  const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  if (weekday === 0 || weekday === 6 || HOLIDAYS.has(date)) return undefined;
  const earlyClose = EARLY_CLOSES.has(date);
  return {
    date,
    openMs: newYorkInstant(year, month, day, OPEN_MINUTES),
    closeMs: newYorkInstant(year, month, day, earlyClose ? EARLY_CLOSE_MINUTES : CLOSE_MINUTES),
    earlyClose,
  };
}

/** The session of the New York day `offsetDays` from the one holding `atMs`. */
function sessionOfDay(atMs: number, offsetDays: number): Session | undefined {
  const ny = newYorkTime(atMs);
  const d = new Date(Date.UTC(ny.year, ny.month - 1, ny.day + offsetDays));
  return sessionOnDay(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** Whether the US exchanges are in their regular session at `at`. */
export function isMarketOpen(at: Date): boolean {
  const session = sessionOfDay(at.getTime(), 0);
  return session !== undefined && at.getTime() >= session.openMs && at.getTime() < session.closeMs;
}

/** Whether any part of [startMs, endMs) lies in a regular session. */
export function overlapsSession(startMs: number, endMs: number): boolean {
  for (let offset = 0; ; offset++) {
    const session = sessionOfDay(startMs, offset);
    const dayStart = newYorkInstant(...ymd(startMs, offset), 0);
    if (dayStart >= endMs) return false;
    if (session && session.openMs < endMs && session.closeMs > startMs) return true;
  }
}

function ymd(atMs: number, offsetDays: number): [number, number, number] {
  const ny = newYorkTime(atMs);
  const d = new Date(Date.UTC(ny.year, ny.month - 1, ny.day + offsetDays));
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/** The next session to open after `at` (not the one under way). Looks up to three weeks ahead. */
export function nextSession(at: Date): Session | undefined {
  for (let offset = 0; offset <= 21; offset++) {
    const session = sessionOfDay(at.getTime(), offset);
    if (session && session.openMs > at.getTime()) return session;
  }
  return undefined;
}

/** The last session that closed at or before `at`: its close is "the previous close". */
export function previousSession(at: Date): Session | undefined {
  for (let offset = 0; offset >= -21; offset--) {
    const session = sessionOfDay(at.getTime(), offset);
    if (session && session.closeMs <= at.getTime()) return session;
  }
  return undefined;
}
