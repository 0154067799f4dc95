import type { SignalsQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { and, iso, type JsonPage, jsonPage, timeCursor, timeKeyed } from './page.ts';

export const signalJson = (sql: Sql) => sql`json_build_object(
  'id', id, 'strategy', strategy, 'symbol', symbol, 'timeframe', timeframe, 'barTime', ${iso(sql, 'bar_time')},
  'side', side, 'price', price, 'reason', reason, 'status', status, 'statusReason', status_reason,
  'createdAt', ${iso(sql, 'created_at')})`;

/** Signals newest first, keyed by (created_at, id) like the signals repository's pages. */
export function listSignals(sql: Sql, q: z.output<typeof SignalsQuery>): Promise<JsonPage> {
  const k = timeKeyed(sql, 'created_at', q.cursor);
  const conds = [k.before];
  if (q.strategy) conds.push(sql`strategy = ${q.strategy}`);
  if (q.symbol) conds.push(sql`symbol = ${q.symbol}`);
  if (q.status) conds.push(sql`status = ${q.status}`);
  if (q.from) conds.push(sql`created_at >= ${q.from}::timestamptz`);
  if (q.to) conds.push(sql`created_at <= ${q.to}::timestamptz`);
  return jsonPage(sql, {
    limit: q.limit,
    cursor: timeCursor,
    rows: sql`
      SELECT *, ${k.columns}
      FROM signals WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${q.limit + 1}`,
    json: signalJson(sql),
  });
}
