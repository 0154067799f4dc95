import type { Sql } from 'postgres';
import {
  FINAL_ORDER_STATUSES,
  type Order,
  type OrderClass,
  type OrderStatus,
  type OrderStatusChange,
  type OrderType,
  type RestingExit,
  type Side,
  type TimeInForce,
  takeProfitOf,
} from '../schemas/index.ts';
import { iso, isoOrNull, pgArray } from './rows.ts';

interface OrderRow {
  id: number;
  client_order_id: string;
  exchange: string;
  exchange_order_id: string | null;
  strategy: string;
  signal_id: number | null;
  symbol: string;
  side: Side;
  type: OrderType;
  time_in_force: TimeInForce;
  qty: string | null;
  notional: string | null;
  limit_price: string | null;
  stop_price: string | null;
  trail_percent: string | null;
  order_class: OrderClass;
  protective: boolean;
  stop_rule: 'stop_loss' | 'trailing_stop' | null;
  status: OrderStatus;
  filled_qty: string;
  filled_avg_price: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  submitted_at: Date | null;
  updated_at: Date;
}

const toOrder = (r: OrderRow): Order => ({
  id: r.id,
  clientOrderId: r.client_order_id,
  exchange: r.exchange,
  exchangeOrderId: r.exchange_order_id,
  strategy: r.strategy,
  signalId: r.signal_id,
  symbol: r.symbol,
  side: r.side,
  type: r.type,
  timeInForce: r.time_in_force,
  qty: r.qty,
  notional: r.notional,
  limitPrice: r.limit_price,
  stopPrice: r.stop_price,
  trailPercent: r.trail_percent,
  orderClass: r.order_class,
  protective: r.protective,
  stopRule: r.stop_rule,
  status: r.status,
  filledQty: r.filled_qty,
  filledAvgPrice: r.filled_avg_price,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  createdAt: iso(r.created_at),
  submittedAt: isoOrNull(r.submitted_at),
  updatedAt: iso(r.updated_at),
});

/** Statuses after which an order never changes again, as a SQL array literal's elements. */
export const FINAL_STATUSES: readonly OrderStatus[] = [...FINAL_ORDER_STATUSES];

export interface NewOrder {
  clientOrderId: string;
  exchange: string;
  strategy: string;
  signalId: number | null;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  qty?: string | null;
  notional?: string | null;
  limitPrice?: string | null;
  stopPrice?: string | null;
  trailPercent?: string | null;
  orderClass?: OrderClass;
  protective?: boolean;
  stopRule?: 'stop_loss' | 'trailing_stop' | null;
}

/**
 * Claims a client order id: inserts the order as `pending_submit` unless a row with that client id (or
 * for that signal) exists. `created` tells the caller whether it made the row; if not, an earlier run
 * may have reached the exchange and the caller must look the id up there before submitting.
 */
export async function claimOrder(sql: Sql, o: NewOrder): Promise<{ order: Order; created: boolean }> {
  // One statement: the row and its first history entry, or nothing when the id is taken.
  const [row] = await sql<OrderRow[]>`
    WITH claimed AS (
      INSERT INTO orders (client_order_id, exchange, strategy, signal_id, symbol, side, type, time_in_force,
                          qty, notional, limit_price, stop_price, trail_percent, order_class, protective, stop_rule, status)
      VALUES (${o.clientOrderId}, ${o.exchange}, ${o.strategy}, ${o.signalId}, ${o.symbol}, ${o.side}, ${o.type},
              ${o.timeInForce}, ${o.qty ?? null}, ${o.notional ?? null}, ${o.limitPrice ?? null}, ${o.stopPrice ?? null},
              ${o.trailPercent ?? null}, ${o.orderClass ?? 'simple'}, ${o.protective ?? false}, ${o.stopRule ?? null}, 'pending_submit')
      ON CONFLICT DO NOTHING
      RETURNING *
    ), history AS (
      INSERT INTO order_status_history (order_id, status) SELECT id, status FROM claimed
    )
    SELECT * FROM claimed`;
  if (row) return { order: toOrder(row), created: true };
  const [existing] = await sql<OrderRow[]>`
    SELECT * FROM orders
    WHERE client_order_id = ${o.clientOrderId} OR (${o.signalId}::int8 IS NOT NULL AND signal_id = ${o.signalId})
    ORDER BY (client_order_id = ${o.clientOrderId}) DESC
    LIMIT 1`;
  if (!existing) throw new Error(`order ${o.clientOrderId} conflicted but cannot be found`);
  return { order: toOrder(existing), created: false };
}

/**
 * Locks an order row for the rest of the transaction, or returns null when another transaction holds
 * it (SKIP LOCKED): that one is submitting or recording it, so this one must not.
 */
export async function lockOrder(tx: Sql, id: number): Promise<Order | null> {
  const [row] = await tx<OrderRow[]>`SELECT * FROM orders WHERE id = ${id} FOR UPDATE SKIP LOCKED`;
  return row ? toOrder(row) : null;
}

/** As lockOrder, found by its client order id. */
export async function lockOrderByClientId(tx: Sql, clientOrderId: string): Promise<Order | null> {
  const [row] = await tx<OrderRow[]>`
    SELECT * FROM orders WHERE client_order_id = ${clientOrderId} FOR UPDATE SKIP LOCKED`;
  return row ? toOrder(row) : null;
}

/** Locks an order row, waiting for another holder to finish. */
export async function lockOrderWait(tx: Sql, id: number): Promise<Order | null> {
  const [row] = await tx<OrderRow[]>`SELECT * FROM orders WHERE id = ${id} FOR UPDATE`;
  return row ? toOrder(row) : null;
}

export async function getOrder(sql: Sql, id: number): Promise<Order | null> {
  const [row] = await sql<OrderRow[]>`SELECT * FROM orders WHERE id = ${id}`;
  return row ? toOrder(row) : null;
}

export async function getOrders(sql: Sql, ids: readonly number[]): Promise<Order[]> {
  if (ids.length === 0) return [];
  const rows = await sql<
    OrderRow[]
  >`SELECT * FROM orders WHERE id = ANY(${pgArray(ids as number[])}::int8[]) ORDER BY id`;
  return rows.map(toOrder);
}

export async function getOrderByClientId(sql: Sql, clientOrderId: string): Promise<Order | null> {
  const [row] = await sql<OrderRow[]>`SELECT * FROM orders WHERE client_order_id = ${clientOrderId}`;
  return row ? toOrder(row) : null;
}

export async function getOrderForSignal(sql: Sql, signalId: number): Promise<Order | null> {
  const [row] = await sql<OrderRow[]>`SELECT * FROM orders WHERE signal_id = ${signalId}`;
  return row ? toOrder(row) : null;
}

export interface OrderUpdate {
  status: OrderStatus;
  exchangeOrderId?: string | null;
  filledQty?: string;
  filledAvgPrice?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** Set when the exchange accepted the order. */
  submittedAt?: string | null;
  /** Recorded with the status change in order_status_history. */
  detail?: Record<string, unknown> | null;
}

/**
 * Writes what the exchange (or our own failure) says about an order, and a history row when the
 * status changed. Fields left undefined keep their stored value. Returns the order after the change.
 */
export async function updateOrder(sql: Sql, id: number, u: OrderUpdate): Promise<Order> {
  // One statement: `before` reads the row as it was (CTEs share the statement's snapshot), the history
  // row is written only when the status changes.
  const [row] = await sql<OrderRow[]>`
    WITH before AS (
      SELECT status FROM orders WHERE id = ${id}
    ), updated AS (
      UPDATE orders SET
        status = ${u.status},
        exchange_order_id = COALESCE(${u.exchangeOrderId ?? null}, exchange_order_id),
        filled_qty = COALESCE(${u.filledQty ?? null}::numeric, filled_qty),
        filled_avg_price = COALESCE(${u.filledAvgPrice ?? null}::numeric, filled_avg_price),
        error_code = ${u.errorCode === undefined ? sql`error_code` : u.errorCode},
        error_message = ${u.errorMessage === undefined ? sql`error_message` : u.errorMessage},
        submitted_at = COALESCE(submitted_at, ${u.submittedAt ?? null}::timestamptz),
        updated_at = now()
      WHERE id = ${id}
      RETURNING *
    ), history AS (
      INSERT INTO order_status_history (order_id, status, detail)
      SELECT updated.id, updated.status, ${u.detail ? sql.json(u.detail as never) : null}::jsonb
      FROM updated, before WHERE before.status IS DISTINCT FROM updated.status
    )
    SELECT * FROM updated`;
  if (!row) throw new Error(`order ${id} not found`);
  return toOrder(row);
}

/** Orders the exchange may still change (not final), oldest first; optionally one exchange's. */
export async function openOrders(
  sql: Sql,
  f: { exchange?: string; strategy?: string; symbol?: string; limit?: number } = {},
): Promise<Order[]> {
  const rows = await sql<OrderRow[]>`
    SELECT * FROM orders
    WHERE status NOT IN ${sql(FINAL_STATUSES as OrderStatus[])}
      AND (${f.exchange ?? null}::text IS NULL OR exchange = ${f.exchange ?? null})
      AND (${f.strategy ?? null}::text IS NULL OR strategy = ${f.strategy ?? null})
      AND (${f.symbol ?? null}::text IS NULL OR symbol = ${f.symbol ?? null})
    ORDER BY id
    LIMIT ${f.limit ?? 10_000}`;
  return rows.map(toOrder);
}

export async function countOpenOrders(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM orders WHERE status NOT IN ${sql(FINAL_STATUSES as OrderStatus[])}`;
  return row.n;
}

export async function orderHistory(sql: Sql, orderId: number): Promise<OrderStatusChange[]> {
  const rows = await sql<
    { order_id: number; status: OrderStatus; at: Date; detail: Record<string, unknown> | null }[]
  >`
    SELECT order_id, status, at, detail FROM order_status_history WHERE order_id = ${orderId} ORDER BY id`;
  return rows.map((r) => ({ orderId: r.order_id, status: r.status, at: iso(r.at), detail: r.detail }));
}

/** What protect.ts reads of a book's protective orders, in one statement. */
export interface ProtectiveState {
  /** The live protective order (at most one: orders_one_protective_idx). */
  open: Order | null;
  /** Protective orders the book ever had: numbers the next one's client order id. */
  count: number;
  /**
   * The newest protective order, when the venue refused it (failed) or a person canceled it (error code
   * canceled_by_person): when it was claimed, and which.
   */
  refused: { at: string; byPerson: boolean } | null;
}

export async function protectiveState(sql: Sql, strategy: string, symbol: string): Promise<ProtectiveState> {
  const [open, [row]] = await Promise.all([
    openProtectiveOrder(sql, strategy, symbol),
    sql<
      { count: number; last: { status: OrderStatus; error_code: string | null; created_at: string } | null }[]
    >`
      SELECT
        (SELECT count(*)::int FROM orders WHERE strategy = ${strategy} AND symbol = ${symbol} AND protective) AS count,
        (SELECT json_build_object('status', status, 'error_code', error_code, 'created_at', created_at)
         FROM orders WHERE strategy = ${strategy} AND symbol = ${symbol} AND protective
         ORDER BY id DESC LIMIT 1) AS last`,
  ]);
  return {
    open,
    count: row.count,
    refused:
      row.last && (row.last.status === 'failed' || row.last.error_code === 'canceled_by_person')
        ? { at: iso(new Date(row.last.created_at)), byPerson: row.last.error_code === 'canceled_by_person' }
        : null,
  };
}

/** True when a closing order of the book (not a protective one) or a closing signal is still in flight. */
export async function closeInFlight(
  sql: Sql,
  strategy: string,
  symbol: string,
  side: Side,
): Promise<boolean> {
  const final = FINAL_STATUSES as OrderStatus[];
  const [row] = await sql<{ busy: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM orders WHERE strategy = ${strategy} AND symbol = ${symbol} AND side = ${side}
                     AND NOT protective AND status NOT IN ${sql(final)})
        OR EXISTS (SELECT 1 FROM signals WHERE strategy = ${strategy} AND symbol = ${symbol} AND side = ${side}
                     AND status = 'new') AS busy`;
  return row.busy;
}

/** The book's live protective order, if any. */
export async function openProtectiveOrder(sql: Sql, strategy: string, symbol: string): Promise<Order | null> {
  const [row] = await sql<OrderRow[]>`
    SELECT * FROM orders WHERE strategy = ${strategy} AND symbol = ${symbol} AND protective
      AND status NOT IN ${sql(FINAL_STATUSES as OrderStatus[])} LIMIT 1`;
  return row ? toOrder(row) : null;
}

/** The live protective orders of these books, keyed `strategy|symbol` (what the positions views show). */
export async function restingExits(
  sql: Sql,
  books: readonly { strategy: string; symbol: string }[],
): Promise<Map<string, RestingExit>> {
  const out = new Map<string, RestingExit>();
  if (books.length === 0) return out;
  const rows = await sql<OrderRow[]>`
    SELECT o.* FROM unnest(${pgArray(books.map((b) => b.strategy))}::text[], ${pgArray(books.map((b) => b.symbol))}::text[])
      AS b(strategy, symbol)
    JOIN orders o ON o.strategy = b.strategy AND o.symbol = b.symbol
    WHERE o.protective AND o.status NOT IN ${sql(FINAL_STATUSES as OrderStatus[])}`;
  for (const r of rows.map(toOrder)) {
    out.set(`${r.strategy}|${r.symbol}`, {
      orderId: r.id,
      type: r.type,
      orderClass: r.orderClass,
      stopPrice: r.stopPrice,
      takeProfit: takeProfitOf(r),
      stopRule: r.stopRule,
      status: r.status,
    });
  }
  return out;
}
