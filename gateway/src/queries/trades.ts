import type { TradesQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { and, decimal, iso, type JsonPage, jsonPage, timeCursor, timeKeyed } from './page.ts';

/** Trades newest first, keyed by (executed_at, id): the trades_*_idx indexes serve every filter. */
export function listTrades(sql: Sql, q: z.output<typeof TradesQuery>): Promise<JsonPage> {
  const k = timeKeyed(sql, 'executed_at', q.cursor);
  const conds = [k.before];
  if (q.strategy) conds.push(sql`strategy = ${q.strategy}`);
  if (q.symbol) conds.push(sql`symbol = ${q.symbol}`);
  if (q.side) conds.push(sql`side = ${q.side}`);
  if (q.from) conds.push(sql`executed_at >= ${q.from}::timestamptz`);
  if (q.to) conds.push(sql`executed_at <= ${q.to}::timestamptz`);
  return jsonPage(sql, {
    limit: q.limit,
    cursor: timeCursor,
    rows: sql`
      SELECT id, fill_id, order_id, strategy, symbol, side, qty, price, fee, realized_pnl, position_after, executed_at,
             ${k.columns}
      FROM trades WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${q.limit + 1}`,
    json: sql`json_build_object(
      'id', id, 'fillId', fill_id, 'orderId', order_id, 'strategy', strategy, 'symbol', symbol, 'side', side,
      'qty', ${decimal(sql, 'qty')}, 'price', ${decimal(sql, 'price')}, 'fee', ${decimal(sql, 'fee')},
      'realizedPnl', ${decimal(sql, 'realized_pnl')}, 'positionAfter', ${decimal(sql, 'position_after')},
      'executedAt', ${iso(sql, 'executed_at')})`,
  });
}
