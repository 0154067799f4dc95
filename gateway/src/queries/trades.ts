import type { TradesQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { and, type Fields, type JsonPage, jsonPage, timeCursor, timeKeyed, tradingFilters } from './page.ts';

const TRADE: Fields = [
  ['id', 'id', 'int'],
  ['fillId', 'fill_id', 'int'],
  ['orderId', 'order_id', 'int'],
  ['strategy', 'strategy', 'text'],
  ['symbol', 'symbol', 'text'],
  ['side', 'side', 'text'],
  ['qty', 'qty', 'decimal'],
  ['price', 'price', 'decimal'],
  ['fee', 'fee', 'decimal'],
  ['realizedPnl', 'realized_pnl', 'decimal'],
  ['positionAfter', 'position_after', 'decimal'],
  ['executedAt', 'executed_at', 'time'],
];

/** Trades newest first, keyed by (executed_at, id): the trades_*_idx indexes serve every filter. */
export function listTrades(sql: Sql, q: z.output<typeof TradesQuery>): Promise<JsonPage> {
  const k = timeKeyed(sql, 'executed_at', q.cursor);
  const conds = [k.before, ...tradingFilters(sql, q, 'executed_at')];
  return jsonPage(sql, {
    limit: q.limit,
    cursor: timeCursor,
    rows: sql`
      SELECT id, fill_id, order_id, strategy, symbol, side, qty, price, fee, realized_pnl, position_after, executed_at,
             ${k.columns}
      FROM trades WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${q.limit + 1}`,
    fields: TRADE,
  });
}
