import type { Sql } from 'postgres';
import type { Side, Trade } from '../schemas/index.ts';
import { iso, pgArray } from './rows.ts';

interface TradeRow {
  id: number;
  fill_id: number;
  order_id: number;
  strategy: string;
  symbol: string;
  side: Side;
  qty: string;
  price: string;
  fee: string;
  realized_pnl: string;
  position_after: string;
  executed_at: Date;
}

const toTrade = (r: TradeRow): Trade => ({
  id: r.id,
  fillId: r.fill_id,
  orderId: r.order_id,
  strategy: r.strategy,
  symbol: r.symbol,
  side: r.side,
  qty: r.qty,
  price: r.price,
  fee: r.fee,
  realizedPnl: r.realized_pnl,
  positionAfter: r.position_after,
  executedAt: iso(r.executed_at),
});

export type NewTrade = Omit<Trade, 'id'>;

/** Inserts the trade booking a fill; null when the fill is already booked (one trade per fill). */
export async function insertTrade(sql: Sql, t: NewTrade): Promise<Trade | null> {
  const [row] = await sql<TradeRow[]>`
    INSERT INTO trades (fill_id, order_id, strategy, symbol, side, qty, price, fee, realized_pnl, position_after, executed_at)
    VALUES (${t.fillId}, ${t.orderId}, ${t.strategy}, ${t.symbol}, ${t.side}, ${t.qty}, ${t.price}, ${t.fee},
            ${t.realizedPnl}, ${t.positionAfter}, ${t.executedAt})
    ON CONFLICT (fill_id) DO NOTHING
    RETURNING *`;
  return row ? toTrade(row) : null;
}

export async function getTrades(sql: Sql, ids: readonly number[]): Promise<Trade[]> {
  if (ids.length === 0) return [];
  const rows = await sql<
    TradeRow[]
  >`SELECT * FROM trades WHERE id = ANY(${pgArray(ids as number[])}::int8[]) ORDER BY id`;
  return rows.map(toTrade);
}

/** Realised P&L (fees deducted) of trades executed at or after `since` (ISO), optionally one book's. */
export async function realizedPnlSince(sql: Sql, since: string, strategy?: string): Promise<string> {
  const [row] = await sql<{ pnl: string }[]>`
    SELECT COALESCE(sum(realized_pnl), 0) AS pnl FROM trades
    WHERE executed_at >= ${since} AND (${strategy ?? null}::text IS NULL OR strategy = ${strategy ?? null})`;
  return row.pnl;
}

/** When the book's most recent losing trade executed (ISO), or null. */
export async function lastLosingTradeAt(sql: Sql, strategy: string): Promise<string | null> {
  const [row] = await sql<{ executed_at: Date }[]>`
    SELECT executed_at FROM trades WHERE strategy = ${strategy} AND realized_pnl < 0
    ORDER BY executed_at DESC, id DESC LIMIT 1`;
  return row ? iso(row.executed_at) : null;
}
