import type { Sql } from 'postgres';
import type { Fill, Side } from '../schemas/index.ts';
import { keyset, type Page, pageSize, toPage } from './keyset.ts';
import { iso } from './rows.ts';

interface FillRow {
  id: number;
  order_id: number;
  client_order_id: string;
  exchange_fill_id: string;
  symbol: string;
  side: Side;
  qty: string;
  price: string;
  fee: string;
  filled_at: Date;
}

const toFill = (r: FillRow): Fill => ({
  id: r.id,
  orderId: r.order_id,
  clientOrderId: r.client_order_id,
  exchangeFillId: r.exchange_fill_id,
  symbol: r.symbol,
  side: r.side,
  qty: r.qty,
  price: r.price,
  fee: r.fee,
  filledAt: iso(r.filled_at),
});

export interface NewFill {
  orderId: number;
  exchangeFillId: string;
  symbol: string;
  side: Side;
  qty: string;
  price: string;
  fee: string;
  filledAt: string;
}

/** Inserts a fill; null when this (order, exchange fill id) is already recorded. */
export async function insertFill(sql: Sql, f: NewFill): Promise<Fill | null> {
  const [row] = await sql<FillRow[]>`
    WITH ins AS (
      INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, fee, filled_at)
      VALUES (${f.orderId}, ${f.exchangeFillId}, ${f.symbol}, ${f.side}, ${f.qty}, ${f.price}, ${f.fee}, ${f.filledAt})
      ON CONFLICT (order_id, exchange_fill_id) DO NOTHING
      RETURNING *
    )
    SELECT ins.*, o.client_order_id FROM ins JOIN orders o ON o.id = ins.order_id`;
  return row ? toFill(row) : null;
}

export async function getFill(sql: Sql, id: number): Promise<Fill | null> {
  const [row] = await sql<FillRow[]>`
    SELECT f.*, o.client_order_id FROM fills f JOIN orders o ON o.id = f.order_id WHERE f.id = ${id}`;
  return row ? toFill(row) : null;
}

export async function fillsOfOrder(sql: Sql, orderId: number): Promise<Fill[]> {
  const rows = await sql<FillRow[]>`
    SELECT f.*, o.client_order_id FROM fills f JOIN orders o ON o.id = f.order_id
    WHERE f.order_id = ${orderId} ORDER BY f.id`;
  return rows.map(toFill);
}

/** What is recorded for an order so far: the base a change of the exchange's cumulative fill is measured from. */
export async function fillTotals(
  sql: Sql,
  orderId: number,
): Promise<{ qty: string; notional: string; fee: string }> {
  const [row] = await sql<{ qty: string; notional: string; fee: string }[]>`
    SELECT COALESCE(sum(qty), 0) AS qty, COALESCE(sum(qty * price), 0) AS notional, COALESCE(sum(fee), 0) AS fee
    FROM fills WHERE order_id = ${orderId}`;
  return row;
}

/** Fills that no trade books yet (a crash between the two, or fills imported by another path). Oldest first. */
export async function fillsWithoutTrades(sql: Sql, limit = 500): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    SELECT f.id FROM fills f WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.fill_id = f.id)
    ORDER BY f.id LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listFills(
  sql: Sql,
  f: { orderId?: number; symbol?: string; cursor?: string | null; limit?: number } = {},
): Promise<Page<Fill>> {
  const size = pageSize(f.limit);
  const k = keyset(sql, 'f.created_at', 'f.id');
  const rows = await sql<(FillRow & { keyset_us: number })[]>`
    SELECT f.*, o.client_order_id, ${k.select}
    FROM fills f JOIN orders o ON o.id = f.order_id
    WHERE ${k.before(f.cursor)}
      AND (${f.orderId ?? null}::int8 IS NULL OR f.order_id = ${f.orderId ?? null})
      AND (${f.symbol ?? null}::text IS NULL OR f.symbol = ${f.symbol ?? null})
    ORDER BY ${k.order}
    LIMIT ${size + 1}`;
  return toPage(rows, size, toFill);
}
