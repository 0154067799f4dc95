/**
 * Calendar arithmetic on epoch milliseconds without Date objects, so per-bar grouping (days, ISO weeks,
 * months) costs a division, not an allocation.
 */
import type { Timeframe } from '../schemas/index.ts';

export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 (UTC). */
export const dayNumber = (t: number): number => Math.floor(t / DAY_MS);

/** The ISO week (Monday-based) a UTC day belongs to, as the day number of its Monday. */
export const weekStart = (day: number): number => day - ((((day + 3) % 7) + 7) % 7);

/** Year and month (1-12) of a day number (Howard Hinnant's civil_from_days). */
export function civil(day: number): { year: number; month: number; dayOfMonth: number } {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const dayOfMonth = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, dayOfMonth };
}

/** Months since 1970-01 (a grouping key). */
export function monthNumber(day: number): number {
  const c = civil(day);
  return c.year * 12 + (c.month - 1);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const TWO = Array.from({ length: 100 }, (_, i) => pad(i));

/**
 * The ISO-8601 instant of epoch ms t, as Date.prototype.toISOString writes it, without a Date: results
 * list tens of thousands of trades, and a Date per timestamp was a fifth of a backtest's time.
 */
export function isoTime(t: number): string {
  if (!Number.isFinite(t) || t < 0 || t >= 253_402_300_800_000) return new Date(t).toISOString();
  const day = Math.floor(t / DAY_MS);
  const c = civil(day);
  let ms = t - day * DAY_MS;
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const mi = Math.floor(ms / 60_000);
  ms -= mi * 60_000;
  const sec = Math.floor(ms / 1000);
  ms = Math.round(ms - sec * 1000);
  const y = c.year < 1000 ? pad(c.year, 4) : String(c.year);
  const msText = ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : String(ms);
  return `${y}-${TWO[c.month]}-${TWO[c.dayOfMonth]}T${TWO[h]}:${TWO[mi]}:${TWO[sec]}.${msText}Z`;
}
/** "THH:MM:00.000Z" of each minute of a day, made on first use. */
const MINUTE_TEXT: (string | undefined)[] = new Array(1440);

/**
 * isoTime for a stream of instants (a trade list): the day's text is kept while the day does not
 * change and the time of day comes from a table of whole minutes, so an instant on a minute costs
 * one concatenation instead of a dozen (isoTime's cost was mostly the strings it pieced together).
 */
export class IsoTimes {
  private day = Number.NaN;
  private dayText = '';

  format(t: number): string {
    if (!(t >= 0 && t < 253_402_300_800_000)) return isoTime(t);
    const day = Math.floor(t / DAY_MS);
    const ms = t - day * DAY_MS;
    const minute = ms / 60_000;
    if (!Number.isInteger(minute)) return isoTime(t);
    if (day !== this.day) {
      const c = civil(day);
      const y = c.year < 1000 ? pad(c.year, 4) : String(c.year);
      this.dayText = `${y}-${TWO[c.month]}-${TWO[c.dayOfMonth]}`;
      this.day = day;
    }
    let text = MINUTE_TEXT[minute];
    if (text === undefined) {
      text = `T${TWO[Math.floor(minute / 60)]}:${TWO[minute % 60]}:00.000Z`;
      MINUTE_TEXT[minute] = text;
    }
    return this.dayText + text;
  }
}

export function dayLabel(day: number): string {
  const c = civil(day);
  return `${c.year}-${pad(c.month)}-${pad(c.dayOfMonth)}`;
}
export function monthLabel(month: number): string {
  return `${Math.floor(month / 12)}-${pad((month % 12) + 1)}`;
}

const MINUTES: Record<Timeframe, number> = {
  '1Min': 1,
  '5Min': 5,
  '15Min': 15,
  '30Min': 30,
  '1Hour': 60,
  '4Hour': 240,
  '1Day': 1440,
  '1Week': 10_080,
};

export type TradingCalendar = 'stocks' | 'crypto';

/**
 * Bars per year for annualising: US stocks trade 252 sessions of 390 minutes a year, crypto trades
 * 365 days of 1,440 minutes. Daily bars: 252 / 365; weekly: 52 / 365 ÷ 7; intraday: sessions × bars per session.
 */
export function periodsPerYear(timeframe: Timeframe, calendar: TradingCalendar): number {
  const minutes = MINUTES[timeframe];
  if (timeframe === '1Week') return calendar === 'stocks' ? 52 : 365 / 7;
  if (timeframe === '1Day') return calendar === 'stocks' ? 252 : 365;
  return calendar === 'stocks' ? (252 * 390) / minutes : (365 * 1440) / minutes;
}
