/**
 * Wall-clock times in a venue's time zone. US equity sessions are defined in New York time, so a
 * calendar row "2024-03-11 09:30" is 13:30Z after the DST switch and 14:30Z before it.
 */

export const NEW_YORK = 'America/New_York';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Milliseconds the zone is ahead of UTC at instant `ts` (New York: -5h or -4h). */
export function zoneOffsetMs(ts: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ts))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(ts / 1000) * 1000;
}

/** The instant a wall-clock `date` (YYYY-MM-DD) `time` (HH:MM or HHMM) has in `timeZone`. */
export function zonedTime(date: string, time: string, timeZone = NEW_YORK): Date {
  const [y, m, d] = date.split('-').map(Number);
  const t = time.includes(':') ? time : `${time.slice(0, 2)}:${time.slice(2)}`;
  const [hh, mm] = t.split(':').map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  // Two passes settle the offset on either side of a DST switch.
  let utc = guess - zoneOffsetMs(guess, timeZone);
  utc = guess - zoneOffsetMs(utc, timeZone);
  return new Date(utc);
}

/** The calendar date (YYYY-MM-DD) of instant `ts` in `timeZone`. */
export function zonedDate(ts: number, timeZone = NEW_YORK): string {
  return new Date(ts + zoneOffsetMs(ts, timeZone)).toISOString().slice(0, 10);
}

/** YYYY-MM-DD plus `days`. */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** Every date from `start` to `end` inclusive. */
export function datesBetween(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** 0 = Sunday … 6 = Saturday. */
export const weekday = (date: string): number => new Date(`${date}T00:00:00Z`).getUTCDay();
