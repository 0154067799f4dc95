/**
 * Gaps the user should know about: sessions the exchange calendar says traded for which no bar is
 * stored. Stocks are checked against the venue's calendar (holidays and weekends are not gaps; a
 * session with no data is); crypto, open around the clock, against every UTC day. Weekly bars are
 * checked per week that had a session.
 */
import type { Sql } from 'postgres';
import { isCryptoSymbol } from '../exchanges/symbols.ts';
import type { CalendarDay, ExchangeAdapter } from '../exchanges/types.ts';
import type { Timeframe } from '../schemas/index.ts';
import { addDays, NEW_YORK, weekday, zonedDate } from './time.ts';

export interface MissingSession {
  /** The session's date (YYYY-MM-DD; for weekly bars, the Monday of the week). */
  date: string;
  open: string;
  close: string;
}

export interface GapReport {
  symbol: string;
  timeframe: Timeframe;
  from: string;
  to: string;
  /** Sessions inside [from, to] that had ended. */
  sessions: number;
  missing: MissingSession[];
}

const toMs = (t: string): number => Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
const mondayOf = (date: string): string => addDays(date, -((weekday(date) + 6) % 7));

/** Every UTC day as a session, for venues that never close. */
function everyDay(start: string, end: string): CalendarDay[] {
  const out: CalendarDay[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) {
    out.push({ date: d, open: `${d}T00:00:00.000Z`, close: `${addDays(d, 1)}T00:00:00.000Z` });
  }
  return out;
}

/** Finds the sessions in [from, to] (ended before `now`) without a single stored bar. */
export async function findGaps(
  sql: Sql,
  adapter: ExchangeAdapter,
  q: { symbol: string; timeframe: Timeframe; from: string; to?: string; now?: number },
): Promise<GapReport> {
  const now = q.now ?? Date.now();
  const from = toMs(q.from);
  const to = Math.min(q.to ? toMs(q.to) : now, now);
  const allDay = isCryptoSymbol(q.symbol) || adapter.capabilities.alwaysOpen;
  const zone = allDay ? 'UTC' : NEW_YORK;
  const startDate = allDay ? new Date(from).toISOString().slice(0, 10) : zonedDate(from);
  const endDate = allDay ? new Date(to).toISOString().slice(0, 10) : zonedDate(to);
  const calendar = allDay ? everyDay(startDate, endDate) : await adapter.getCalendar(startDate, endDate);
  const sessions = calendar.filter((d) => Date.parse(d.open) >= from && Date.parse(d.close) <= to);

  // Dates (in the venue's zone) that have at least one bar; weekly bars by the Monday of their week.
  const rows = await sql<{ d: string }[]>`
    SELECT DISTINCT to_char(ts AT TIME ZONE ${zone}, 'YYYY-MM-DD') AS d
    FROM bars
    WHERE symbol = ${q.symbol} AND timeframe = ${q.timeframe}
      AND ts BETWEEN ${new Date(from - 8 * 86_400_000)} AND ${new Date(to + 86_400_000)}`;
  const weekly = q.timeframe === '1Week';
  const withBars = new Set(rows.map((r) => (weekly ? mondayOf(r.d) : r.d)));

  // Weekly bars are checked per week that had a session, from its first open to its last close.
  let periods: MissingSession[] = sessions.map((s) => ({ date: s.date, open: s.open, close: s.close }));
  if (weekly) {
    const weeks = new Map<string, MissingSession>();
    for (const s of sessions) {
      const m = mondayOf(s.date);
      const w = weeks.get(m);
      if (w) w.close = s.close;
      else weeks.set(m, { date: m, open: s.open, close: s.close });
    }
    periods = [...weeks.values()];
  }
  return {
    symbol: q.symbol,
    timeframe: q.timeframe,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    sessions: periods.length,
    missing: periods.filter((p) => !withBars.has(p.date)),
  };
}
