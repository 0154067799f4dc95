import type { SignalsQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { and, type Fields, type JsonPage, jsonPage, timeCursor, timeKeyed } from './page.ts';

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
    fields: SIGNAL,
  });
}
