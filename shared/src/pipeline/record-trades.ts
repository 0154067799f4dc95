/**
 * record-trade and order sync: what the exchange says about an order becomes fills, trades and positions.
 *
 * Venues report an order's cumulative fill (quantity and average price). A new fill is the difference
 * between that and what the `fills` table already holds for the order, so the derivation is idempotent
 * under redelivery and needs no memory besides the database. Each fill is booked — fill row, trade with
 * realised P&L, the book's position, the order's status — in one transaction under the order's lock.
 */
import type { Sql } from 'postgres';
import {
  fillsWithoutTrades,
  fillTotals,
  getFill,
  getOrder,
  getOrders,
  insertFill,
  insertTrade,
  lockOrderWait,
  lockPosition,
  openOrders,
  savePosition,
  updateOrder,
} from '../db/index.ts';
import { getExchange } from '../exchanges/configured.ts';
import type { ExchangeOrder } from '../exchanges/index.ts';
import { add, cmp, div, eq, isZero, max, mul, sub } from '../money/index.ts';
import { notFound } from '../runtime/errors.ts';
import { type Fill, isFinalStatus, type Order, type Trade } from '../schemas/index.ts';
import { bookFill } from './booking.ts';
import { errorMessage, logOf, type PipelineContext, publish } from './context.ts';
import type { RecordTradesInput } from './inputs.ts';
import { checkDailyLossAfterTrade } from './risk-events.ts';

/** Books one fill into the strategy's book (trade + position). Null when the fill is already booked. */
export async function bookFillInto(
  tx: Sql,
  strategy: string,
  fill: Fill,
  orderId: number,
): Promise<Trade | null> {
  const position = await lockPosition(tx, strategy, fill.symbol);
  const b = bookFill(position, fill.side, fill.qty, fill.price, fill.fee);
  const trade = await insertTrade(tx, {
    fillId: fill.id,
    orderId,
    strategy,
    symbol: fill.symbol,
    side: fill.side,
    qty: fill.qty,
    price: fill.price,
    fee: fill.fee,
    realizedPnl: b.realized,
    positionAfter: b.qty,
    executedAt: fill.filledAt,
  });
  if (!trade) return null;
  await savePosition(tx, {
    strategy,
    symbol: fill.symbol,
    qty: b.qty,
    avgPrice: b.avgPrice,
    realizedPnl: add(position.realizedPnl, b.realized),
    openedAt: b.opened ? fill.filledAt : isZero(b.qty) ? null : position.openedAt,
  });
  return trade;
}

export interface AppliedOrder {
  order: Order;
  trades: Trade[];
  /** Status or filled quantity changed. */
  changed: boolean;
}

/** True when the venue's view differs from the stored row (what fetch-bars announces). */
export const differs = (order: Order, ex: ExchangeOrder): boolean =>
  order.status !== ex.status || !eq(order.filledQty, ex.filledQty);

/**
 * Applies the venue's view of an order: derives the new fill (if any) from the change of the cumulative
 * fill, books it, and stores the status — one transaction, under the order row's lock. A snapshot older
 * than what is recorded (a slower concurrent reader) changes nothing.
 */
export async function applyExchangeOrder(
  sql: Sql,
  orderId: number,
  ex: ExchangeOrder,
): Promise<AppliedOrder> {
  return sql.begin(async (txRaw) => {
    const tx = txRaw as unknown as Sql;
    const order = await lockOrderWait(tx, orderId);
    if (!order) throw new Error(`order ${orderId} not found`);
    if (isFinalStatus(order.status) || order.status === 'pending_submit')
      return { order, trades: [], changed: false };
    const recorded = await fillTotals(tx, orderId);
    if (cmp(ex.filledQty, recorded.qty) < 0) return { order, trades: [], changed: false };
    const trades: Trade[] = [];
    if (cmp(ex.filledQty, recorded.qty) > 0) {
      if (ex.filledAvgPrice === null)
        throw new Error(`order ${orderId}: venue reports a fill without a price`);
      const qty = sub(ex.filledQty, recorded.qty);
      // The new part's price: cumulative notional now, less the notional already recorded, per unit.
      const price = div(sub(mul(ex.filledAvgPrice, ex.filledQty), recorded.notional), qty);
      const fill = await insertFill(tx, {
        orderId,
        exchangeFillId: `${ex.id}:${ex.filledQty}`,
        symbol: order.symbol,
        side: order.side,
        qty,
        price,
        fee: max(sub(ex.fee, recorded.fee), '0'),
        filledAt: ex.filledAt ?? ex.updatedAt,
      });
      if (fill) {
        const trade = await bookFillInto(tx, order.strategy, fill, orderId);
        if (trade) trades.push(trade);
      }
    }
    const changed = differs(order, ex);
    const updated = changed
      ? await updateOrder(tx, orderId, {
          status: ex.status,
          exchangeOrderId: ex.id,
          filledQty: ex.filledQty,
          filledAvgPrice: ex.filledAvgPrice,
          errorMessage: ex.reason ?? undefined,
          detail: { filledQty: ex.filledQty, filledAvgPrice: ex.filledAvgPrice, reason: ex.reason ?? null },
        })
      : order;
    return { order: updated, trades, changed };
  }) as Promise<AppliedOrder>;
}

/** Announces a booked batch of trades. */
export async function announceTrades(ctx: PipelineContext, trades: readonly Trade[]): Promise<void> {
  if (trades.length === 0) return;
  await publish(
    ctx,
    'trades.recorded',
    {
      trades: trades.map((t) => ({
        id: t.id,
        strategy: t.strategy,
        symbol: t.symbol,
        side: t.side,
        qty: t.qty,
        price: t.price,
        realizedPnl: t.realizedPnl,
      })),
    },
    `trades.recorded:${trades.map((t) => t.id).join(',')}`.slice(0, 200),
  );
}

/** Announces an order's state; the id makes each (status, filled) state one event. */
export async function announceOrder(
  ctx: PipelineContext,
  o: Pick<Order, 'id' | 'clientOrderId' | 'strategy' | 'symbol' | 'side' | 'status' | 'filledQty'>,
): Promise<void> {
  await publish(
    ctx,
    'orders.updated',
    {
      orders: [
        {
          id: o.id,
          clientOrderId: o.clientOrderId,
          strategy: o.strategy,
          symbol: o.symbol,
          side: o.side,
          status: o.status,
          filledQty: o.filledQty,
        },
      ],
    },
    `orders.updated:${o.id}:${o.status}:${o.filledQty}`,
  );
}

export interface RecordedOrder {
  id: number;
  status: string;
  trades: number[];
  note?: string;
}

export interface RecordTradesResult {
  orders: RecordedOrder[];
  tradeIds: number[];
}

/** Fetches one stored order from its venue and applies it. */
async function recordOne(
  ctx: PipelineContext,
  order: Order,
): Promise<{ result: RecordedOrder; trades: Trade[] }> {
  if (isFinalStatus(order.status))
    return { result: { id: order.id, status: order.status, trades: [], note: 'final' }, trades: [] };
  if (order.status === 'pending_submit') {
    return {
      result: { id: order.id, status: order.status, trades: [], note: 'not submitted yet' },
      trades: [],
    };
  }
  const exchange = await getExchange(order.exchange);
  const ex = await exchange.getOrderByClientId(order.clientOrderId);
  if (!ex)
    return {
      result: { id: order.id, status: order.status, trades: [], note: 'unknown at the exchange' },
      trades: [],
    };
  // Nothing moved since the row was read (a redelivery, or the announcement of an order just placed):
  // no transaction needed.
  if (!differs(order, ex)) return { result: { id: order.id, status: order.status, trades: [] }, trades: [] };
  const applied = await applyExchangeOrder(ctx.sql, order.id, ex);
  return {
    result: { id: order.id, status: applied.order.status, trades: applied.trades.map((t) => t.id) },
    trades: applied.trades,
  };
}

/**
 * record-trade: for each order (by id, or from an orders.updated event), fetch it from its exchange and
 * book whatever filled since the last look. Errors are per order; the batch continues.
 */
export async function recordTrades(
  ctx: PipelineContext,
  input: RecordTradesInput,
): Promise<RecordTradesResult> {
  const ids = [...new Set(input.orderIds ?? input.orders?.map((o) => o.id) ?? [])];
  const orders = await getOrders(ctx.sql, ids);
  if (input.orderIds) {
    const found = new Set(orders.map((o) => o.id));
    const missing = input.orderIds.findIndex((id) => !found.has(id));
    if (missing >= 0) throw notFound(`order ${input.orderIds[missing]}`, `orderIds.${missing}`);
  }
  const results: RecordedOrder[] = [];
  const trades: Trade[] = [];
  for (const order of orders) {
    try {
      const r = await recordOne(ctx, order);
      results.push(r.result);
      trades.push(...r.trades);
    } catch (e) {
      logOf(ctx).error({ orderId: order.id, err: errorMessage(e) }, 'recording order failed');
      results.push({ id: order.id, status: order.status, trades: [], note: `error: ${errorMessage(e)}` });
    }
  }
  await announceTrades(ctx, trades);
  if (trades.some((t) => cmp(t.realizedPnl, '0') < 0)) await checkDailyLossAfterTrade(ctx);
  return { orders: results, tradeIds: trades.map((t) => t.id) };
}

export interface SyncResult {
  checked: number;
  changed: Order[];
  tradeIds: number[];
}

/**
 * Asks the venue about every order of ours it may still change. `apply: false` (fetch-bars) only
 * announces the changes on orders.updated for record-trade to book; `apply: true` (reconcile, a
 * sync-orders sweep) books them here.
 */
export async function syncOpenOrders(
  ctx: PipelineContext,
  opts: { exchange?: string; apply: boolean; limit?: number },
): Promise<SyncResult> {
  const rows = (await openOrders(ctx.sql, { exchange: opts.exchange, limit: opts.limit })).filter(
    (o) => o.status !== 'pending_submit',
  );
  const changed: Order[] = [];
  const trades: Trade[] = [];
  for (const order of rows) {
    try {
      const exchange = await getExchange(order.exchange);
      const ex = await exchange.getOrderByClientId(order.clientOrderId);
      if (!ex || !differs(order, ex)) continue;
      if (opts.apply) {
        const applied = await applyExchangeOrder(ctx.sql, order.id, ex);
        if (applied.changed) changed.push(applied.order);
        trades.push(...applied.trades);
      } else {
        changed.push({ ...order, status: ex.status, filledQty: ex.filledQty });
        await announceOrder(ctx, { ...order, status: ex.status, filledQty: ex.filledQty });
      }
    } catch (e) {
      logOf(ctx).error({ orderId: order.id, err: errorMessage(e) }, 'syncing order failed');
    }
  }
  if (opts.apply) {
    for (const o of changed) await announceOrder(ctx, o);
    await announceTrades(ctx, trades);
    if (trades.some((t) => cmp(t.realizedPnl, '0') < 0)) await checkDailyLossAfterTrade(ctx);
  }
  return { checked: rows.length, changed, tradeIds: trades.map((t) => t.id) };
}

/** Books fills that no trade covers yet (inserted by another path, or a crash between the two). */
export async function bookUnbookedFills(ctx: PipelineContext, limit = 500): Promise<Trade[]> {
  const trades: Trade[] = [];
  for (const fillId of await fillsWithoutTrades(ctx.sql, limit)) {
    const trade = (await ctx.sql.begin(async (txRaw) => {
      const tx = txRaw as unknown as Sql;
      const fill = await getFill(tx, fillId);
      if (!fill) return null;
      const order = await lockOrderWait(tx, fill.orderId);
      if (!order) return null;
      return bookFillInto(tx, order.strategy, fill, order.id);
    })) as Trade | null;
    if (trade) trades.push(trade);
  }
  await announceTrades(ctx, trades);
  return trades;
}

/** The stored order after applying the venue's view (used by cancel and by place-order). */
export async function refreshOrder(ctx: PipelineContext, orderId: number): Promise<Order | null> {
  const order = await getOrder(ctx.sql, orderId);
  if (!order) return null;
  const { trades } = await recordOne(ctx, order);
  await announceTrades(ctx, trades);
  return getOrder(ctx.sql, orderId);
}
