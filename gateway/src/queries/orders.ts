import { FINAL_ORDER_STATUSES, type OrdersQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { and, type Fields, type JsonPage, jsonPage, timeCursor, timeKeyed, tradingFilters } from './page.ts';

const FINAL = [...FINAL_ORDER_STATUSES];

const ORDER: Fields = [
  ['id', 'id', 'int'],
  ['clientOrderId', 'client_order_id', 'text'],
  ['exchange', 'exchange', 'text'],
  ['exchangeOrderId', 'exchange_order_id', 'text'],
  ['strategy', 'strategy', 'text'],
  ['signalId', 'signal_id', 'int'],
  ['symbol', 'symbol', 'text'],
  ['side', 'side', 'text'],
  ['type', 'type', 'text'],
  ['timeInForce', 'time_in_force', 'text'],
  ['qty', 'qty', 'decimal'],
  ['notional', 'notional', 'decimal'],
  ['limitPrice', 'limit_price', 'decimal'],
  ['stopPrice', 'stop_price', 'decimal'],
  ['trailPercent', 'trail_percent', 'decimal'],
  ['status', 'status', 'text'],
  ['filledQty', 'filled_qty', 'decimal'],
  ['filledAvgPrice', 'filled_avg_price', 'decimal'],
  ['errorCode', 'error_code', 'text'],
  ['errorMessage', 'error_message', 'text'],
  ['createdAt', 'created_at', 'time'],
  ['submittedAt', 'submitted_at', 'time'],
  ['updatedAt', 'updated_at', 'time'],
];

/** Orders newest first, keyed by (created_at, id). `open` / `closed` expand to the lifecycle's groups. */
export function listOrders(sql: Sql, q: z.output<typeof OrdersQuery>): Promise<JsonPage> {
  const k = timeKeyed(sql, 'created_at', q.cursor);
  const conds = [k.before, ...tradingFilters(sql, q, 'created_at')];
  if (q.status) {
    const exact = q.status.filter((s) => s !== 'open' && s !== 'closed');
    const alts = [];
    if (q.status.includes('open')) alts.push(sql`status <> ALL(${FINAL})`);
    if (q.status.includes('closed')) alts.push(sql`status = ANY(${FINAL})`);
    if (exact.length) alts.push(sql`status = ANY(${exact})`);
    conds.push(sql`(${alts.slice(1).reduce((a, b) => sql`${a} OR ${b}`, alts[0])})`);
  }
  return jsonPage(sql, {
    limit: q.limit,
    cursor: timeCursor,
    rows: sql`
      SELECT *, ${k.columns}
      FROM orders WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${q.limit + 1}`,
    fields: ORDER,
  });
}
