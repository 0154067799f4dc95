import { FINAL_ORDER_STATUSES, type OrdersQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { and, decimal, iso, type JsonPage, jsonPage, timeCursor, timeKeyed } from './page.ts';

const FINAL = [...FINAL_ORDER_STATUSES];

const orderJson = (sql: Sql) => sql`json_build_object(
  'id', id, 'clientOrderId', client_order_id, 'exchange', exchange, 'exchangeOrderId', exchange_order_id,
  'strategy', strategy, 'signalId', signal_id, 'symbol', symbol, 'side', side, 'type', type,
  'timeInForce', time_in_force, 'qty', ${decimal(sql, 'qty')}, 'notional', ${decimal(sql, 'notional')},
  'limitPrice', ${decimal(sql, 'limit_price')}, 'stopPrice', ${decimal(sql, 'stop_price')},
  'trailPercent', ${decimal(sql, 'trail_percent')}, 'status', status, 'filledQty', ${decimal(sql, 'filled_qty')},
  'filledAvgPrice', ${decimal(sql, 'filled_avg_price')}, 'errorCode', error_code, 'errorMessage', error_message,
  'createdAt', ${iso(sql, 'created_at')}, 'submittedAt', ${iso(sql, 'submitted_at')}, 'updatedAt', ${iso(sql, 'updated_at')})`;

/** Orders newest first, keyed by (created_at, id). `open` / `closed` expand to the lifecycle's groups. */
export function listOrders(sql: Sql, q: z.output<typeof OrdersQuery>): Promise<JsonPage> {
  const k = timeKeyed(sql, 'created_at', q.cursor);
  const conds = [k.before];
  if (q.status) {
    const exact = q.status.filter((s) => s !== 'open' && s !== 'closed');
    const alts = [];
    if (q.status.includes('open')) alts.push(sql`status <> ALL(${FINAL})`);
    if (q.status.includes('closed')) alts.push(sql`status = ANY(${FINAL})`);
    if (exact.length) alts.push(sql`status = ANY(${exact})`);
    conds.push(sql`(${alts.slice(1).reduce((a, b) => sql`${a} OR ${b}`, alts[0])})`);
  }
  if (q.strategy) conds.push(sql`strategy = ${q.strategy}`);
  if (q.symbol) conds.push(sql`symbol = ${q.symbol}`);
  if (q.side) conds.push(sql`side = ${q.side}`);
  if (q.from) conds.push(sql`created_at >= ${q.from}::timestamptz`);
  if (q.to) conds.push(sql`created_at <= ${q.to}::timestamptz`);
  return jsonPage(sql, {
    limit: q.limit,
    cursor: timeCursor,
    rows: sql`
      SELECT *, ${k.columns}
      FROM orders WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${q.limit + 1}`,
    json: orderJson(sql),
  });
}
