import type { SignalsQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { and, type Fields, type JsonPage, jsonPage, timeCursor, timeKeyed, tradingFilters } from './page.ts';

const SIGNAL: Fields = [
  ['id', 'id', 'int'],
  ['strategy', 'strategy', 'text'],
  ['symbol', 'symbol', 'text'],
  ['timeframe', 'timeframe', 'text'],
  ['barTime', 'bar_time', 'time'],
  ['side', 'side', 'text'],
  ['price', 'price', 'float'],
  ['reason', 'reason', 'text'],
  ['status', 'status', 'text'],
  ['statusReason', 'status_reason', 'text'],
  ['createdAt', 'created_at', 'time'],
];

/** Signals newest first, keyed by (created_at, id) like the signals repository's pages. */
export function listSignals(sql: Sql, q: z.output<typeof SignalsQuery>): Promise<JsonPage> {
  const k = timeKeyed(sql, 'created_at', q.cursor);
  const conds = [k.before, ...tradingFilters(sql, q, 'created_at')];
  if (q.status) conds.push(sql`status = ${q.status}`);
  return jsonPage(sql, {
    limit: q.limit,
    cursor: timeCursor,
    rows: sql`
      SELECT *, ${k.columns}
      FROM signals WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${q.limit + 1}`,
    fields: SIGNAL,
  });
}
