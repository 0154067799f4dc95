/**
 * What has been downloaded: per (exchange, symbol, timeframe), merged stretches of bar start times.
 * Ranges are inclusive epoch-ms intervals; two stretches merge when nothing can start between them.
 */
import type { Sql } from 'postgres';
import { TIMEFRAME_MS, type Timeframe } from '../schemas/index.ts';

export type Range = readonly [start: number, end: number];

export interface Series {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
}

/** Sorted, merged; ranges closer than one bar step are one range. */
export function mergeRanges(ranges: readonly Range[], stepMs: number): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + stepMs) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The parts of [from, to] no covered range contains. */
export function missingRanges(from: number, to: number, covered: readonly Range[]): Range[] {
  const out: Range[] = [];
  let cursor = from;
  for (const [s, e] of [...covered].sort((a, b) => a[0] - b[0])) {
    if (cursor > to) break;
    if (e < cursor) continue;
    if (s > cursor) out.push([cursor, Math.min(s - 1, to)]);
    cursor = Math.max(cursor, e + 1);
  }
  if (cursor <= to) out.push([cursor, to]);
  return out;
}

export async function coveredRanges(sql: Sql, s: Series): Promise<Range[]> {
  const rows = await sql<{ s: number; e: number }[]>`
    SELECT (extract(epoch FROM start_ts) * 1000)::float8 AS s, (extract(epoch FROM end_ts) * 1000)::float8 AS e
    FROM bar_coverage
    WHERE exchange = ${s.exchange} AND symbol = ${s.symbol} AND timeframe = ${s.timeframe}
    ORDER BY start_ts`;
  return rows.map((r) => [r.s, r.e] as const);
}

/** Records [start, end] as downloaded, merged with what was covered before, atomically per series. */
export async function addCoverage(sql: Sql, s: Series, start: number, end: number): Promise<void> {
  if (end < start) return;
  await sql.begin(async (txRaw) => {
    const tx = txRaw as unknown as Sql;
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`coverage|${s.exchange}|${s.symbol}|${s.timeframe}`}, 0))`;
    const merged = mergeRanges([...(await coveredRanges(tx, s)), [start, end]], TIMEFRAME_MS[s.timeframe]);
    await tx`DELETE FROM bar_coverage WHERE exchange = ${s.exchange} AND symbol = ${s.symbol} AND timeframe = ${s.timeframe}`;
    for (const [a, b] of merged) {
      await tx`
        INSERT INTO bar_coverage (exchange, symbol, timeframe, start_ts, end_ts)
        VALUES (${s.exchange}, ${s.symbol}, ${s.timeframe}, ${new Date(a)}, ${new Date(b)})`;
    }
  });
}
