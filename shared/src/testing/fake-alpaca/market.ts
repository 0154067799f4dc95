/**
 * The fake venue's market: an NYSE-like calendar (weekdays minus holidays, early closes) and
 * deterministic bars computed from (symbol, time), so any range can be served lazily, page by page,
 * with the same values on every request. Bars exist only inside sessions for stocks and around the
 * clock for crypto, as on Alpaca.
 */

import { addDays, NEW_YORK, weekday, zonedDate, zonedTime } from '../../market-data/time.ts';
import { TIMEFRAME_MS, type Timeframe } from '../../schemas/index.ts';

export interface FakeSession {
  date: string;
  /** HH:MM New York time. */
  open: string;
  close: string;
}

/** NYSE full-day holidays 2023–2025 (a fake needs a calendar with holidays, not a full history). */
export const NYSE_HOLIDAYS = new Set([
  '2023-01-02',
  '2023-01-16',
  '2023-02-20',
  '2023-04-07',
  '2023-05-29',
  '2023-06-19',
  '2023-07-04',
  '2023-09-04',
  '2023-11-23',
  '2023-12-25',
  '2024-01-01',
  '2024-01-15',
  '2024-02-19',
  '2024-03-29',
  '2024-05-27',
  '2024-06-19',
  '2024-07-04',
  '2024-09-02',
  '2024-11-28',
  '2024-12-25',
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
]);
/** Early closes at 13:00 New York. */
export const NYSE_EARLY_CLOSES = new Set([
  '2023-07-03',
  '2023-11-24',
  '2024-07-03',
  '2024-11-29',
  '2024-12-24',
  '2025-07-03',
  '2025-11-28',
  '2025-12-24',
]);

export interface BarValue {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
  vw: number;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

export class FakeMarket {
  readonly holidays = new Set(NYSE_HOLIDAYS);
  readonly earlyCloses = new Set(NYSE_EARLY_CLOSES);
  /** Explicit price per symbol; otherwise the deterministic curve at "now". */
  readonly prices = new Map<string, number>();
  /** Ranges [from, to) of bar start times the venue has no data for, per symbol. */
  readonly holes = new Map<string, [number, number][]>();

  constructor(public now: () => number) {}

  session(date: string): FakeSession | null {
    const wd = weekday(date);
    if (wd === 0 || wd === 6 || this.holidays.has(date)) return null;
    return { date, open: '09:30', close: this.earlyCloses.has(date) ? '13:00' : '16:00' };
  }

  sessions(start: string, end: string): FakeSession[] {
    const out: FakeSession[] = [];
    for (let d = start; d <= end; d = addDays(d, 1)) {
      const s = this.session(d);
      if (s) out.push(s);
    }
    return out;
  }

  sessionBounds(s: FakeSession): { open: number; close: number } {
    return { open: zonedTime(s.date, s.open).getTime(), close: zonedTime(s.date, s.close).getTime() };
  }

  clock(): { isOpen: boolean; nextOpen: number; nextClose: number } {
    const now = this.now();
    let date = zonedDate(now);
    for (let i = 0; i < 30; i++, date = addDays(date, 1)) {
      const s = this.session(date);
      if (!s) continue;
      const { open, close } = this.sessionBounds(s);
      if (now >= close) continue;
      if (now >= open) {
        // next open is the following session's
        let d2 = addDays(date, 1);
        let next = this.session(d2);
        while (!next) {
          d2 = addDays(d2, 1);
          next = this.session(d2);
        }
        return { isOpen: true, nextOpen: this.sessionBounds(next).open, nextClose: close };
      }
      return { isOpen: false, nextOpen: open, nextClose: close };
    }
    throw new Error('fake market: no session within 30 days');
  }

  /** The deterministic price curve: smooth daily and hourly waves around a per-symbol base. */
  priceAt(symbol: string, t: number): number {
    const h = hash(symbol);
    const base = symbol.includes('/') ? 20_000 + (h % 40_000) : 20 + (h % 480);
    const phase = (h % 1000) / 159;
    const p =
      base * (1 + 0.05 * Math.sin(t / 86_400_000 / 3 + phase) + 0.01 * Math.sin(t / 3_600_000 + phase * 2));
    return round4(p);
  }

  currentPrice(symbol: string): number {
    return this.prices.get(symbol) ?? this.priceAt(symbol, this.now());
  }

  bar(symbol: string, timeframe: Timeframe, t: number): BarValue {
    const ms = TIMEFRAME_MS[timeframe];
    const o = this.priceAt(symbol, t);
    const c = this.priceAt(symbol, t + ms - 1);
    const wiggle = ((hash(`${symbol}${t}`) % 1000) / 1000) * 0.002;
    const h = round4(Math.max(o, c) * (1 + wiggle));
    const l = round4(Math.min(o, c) * (1 - wiggle));
    const v = 100 + (hash(`v${symbol}${t}`) % 10_000);
    return { t, o, h, l, c, v, n: 1 + (v % 97), vw: round4((o + c + h + l) / 4) };
  }

  private inHole(symbol: string, t: number): boolean {
    const hs = this.holes.get(symbol);
    return !!hs?.some(([a, b]) => t >= a && t < b);
  }

  /** Makes the venue have no bars for `symbol` with start times in [from, to). */
  omitBars(symbol: string, from: string | number, to: string | number): void {
    const list = this.holes.get(symbol) ?? [];
    list.push([new Date(from).getTime(), new Date(to).getTime()]);
    this.holes.set(symbol, list);
  }

  /**
   * Start times of the completed bars of `symbol` in [start, end], ascending. Stocks: inside sessions
   * (daily bars at New York midnight of each session, weekly at the Monday of each week with a
   * session); crypto: every slot, UTC-aligned.
   */
  *slots(symbol: string, timeframe: Timeframe, start: number, end: number): Generator<number> {
    const ms = TIMEFRAME_MS[timeframe];
    const last = Math.min(end, this.now() - ms);
    if (last < start) return;
    const keep = (t: number): boolean => t >= start && t <= last && !this.inHole(symbol, t);
    if (symbol.includes('/')) {
      if (timeframe === '1Week') {
        // Monday 00:00 UTC
        let t = Math.floor((start - 4 * 86_400_000) / ms) * ms + 4 * 86_400_000;
        if (t < start) t += ms;
        for (; t <= last; t += ms) if (keep(t)) yield t;
        return;
      }
      for (let t = Math.ceil(start / ms) * ms; t <= last; t += ms) if (keep(t)) yield t;
      return;
    }
    const firstDate = addDays(zonedDate(start), -7);
    // A week's bar exists when any day of it had a session, even if its Monday was a holiday.
    const lastDate = timeframe === '1Week' ? addDays(zonedDate(last), 6) : zonedDate(last);
    if (timeframe === '1Day' || timeframe === '1Week') {
      let lastWeek = '';
      for (let d = firstDate; d <= lastDate; d = addDays(d, 1)) {
        const s = this.session(d);
        if (!s) continue;
        let t: number;
        if (timeframe === '1Day') t = zonedTime(d, '00:00', NEW_YORK).getTime();
        else {
          const monday = addDays(d, -((weekday(d) + 6) % 7));
          if (monday === lastWeek) continue;
          lastWeek = monday;
          t = zonedTime(monday, '00:00', NEW_YORK).getTime();
        }
        if (keep(t)) yield t;
      }
      return;
    }
    for (let d = firstDate; d <= lastDate; d = addDays(d, 1)) {
      const s = this.session(d);
      if (!s) continue;
      const { open, close } = this.sessionBounds(s);
      for (let t = Math.floor(open / ms) * ms; t < close; t += ms) if (keep(t)) yield t;
    }
  }
}
