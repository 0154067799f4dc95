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
  getStrategiesByName,
  insertFill,
  insertTrade,
  lockOrderWait,
  lockPosition,
  type NewTrade,
  openOrders,
  savePosition,
  transaction,
  updateOrder,
} from '../db/index.ts';
import { getExchange } from '../exchanges/configured.ts';
import type { ExchangeOrder } from '../exchanges/index.ts';
import { add, cmp, div, eq, isZero, max, mul, sub } from '../money/index.ts';
import { notFound } from '../runtime/errors.ts';
import {
  type EventPayload,
  type Fill,
  isFinalStatus,
  type Order,
  type Position,
  type Trade,
} from '../schemas/index.ts';
import { hasExits, strategyExits } from '../strategies/index.ts';
import { bookFill } from './booking.ts';
import { errorMessage, logOf, type PipelineContext, publish } from './context.ts';
import type { RecordTradesInput } from './inputs.ts';
import { checkDailyLossAfterTrade } from './risk-events.ts';

type PositionUpdate = Parameters<typeof savePosition>[1];

/** What booking `fill` into the book's (locked) `position` writes: the trade and the position after it. */
function booking(
  strategy: string,
  fill: Fill,
  orderId: number,
  position: Position,
): { trade: NewTrade; position: PositionUpdate } {
  const b = bookFill(position, fill.side, fill.qty, fill.price, fill.fee);
  return {
    trade: {
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
    },
    position: {
      strategy,
      symbol: fill.symbol,
      qty: b.qty,
      avgPrice: b.avgPrice,
      realizedPnl: add(position.realizedPnl, b.realized),
      openedAt: b.opened ? fill.filledAt : isZero(b.qty) ? null : position.openedAt,
    },
  };
}

/** Books one fill into the strategy's book (trade + position). Null when the fill is already booked. */
export async function bookFillInto(
  tx: Sql,
  strategy: string,
  fill: Fill,
  orderId: number,
): Promise<Trade | null> {
  const position = await lockPosition(tx, strategy, fill.symbol);
  const b = booking(strategy, fill, orderId, position);
  const trade = await insertTrade(tx, b.trade);
  if (!trade) return null;
  await savePosition(tx, b.position);
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

const tradesPayload = (trades: readonly Trade[]): EventPayload<'trades.recorded'> => ({
  trades: trades.map((t) => ({
    id: t.id,
    strategy: t.strategy,
    symbol: t.symbol,
    side: t.side,
    qty: t.qty,
    price: t.price,
    realizedPnl: t.realizedPnl,
  })),
});
const tradesEventId = (trades: readonly Trade[]): string =>
  `trades.recorded:${trades.map((t) => t.id).join(',')}`.slice(0, 200);

type AnnouncedOrder = Pick<
  Order,
  'id' | 'clientOrderId' | 'strategy' | 'symbol' | 'side' | 'status' | 'filledQty'
>;
const orderPayload = (o: AnnouncedOrder): EventPayload<'orders.updated'> => ({
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
});
/** One event per (status, filled) state of an order. */
const orderEventId = (o: AnnouncedOrder): string => `orders.updated:${o.id}:${o.status}:${o.filledQty}`;

/**
 * Applies the venue's view of an order: derives the new fill (if any) from the change of the cumulative
 * fill, books it, and stores the status — one transaction, under the order row's lock — then publishes
 * trades.recorded for the trade (and, with `announce`, orders.updated for the new state). A snapshot
 * older than what is recorded (a slower concurrent reader) changes nothing.
 */
export async function applyExchangeOrder(
  ctx: PipelineContext,
  orderId: number,
  ex: ExchangeOrder,
  opts: {
    announce?: boolean;
    /** The order as the caller last read it: lets the booking's position lock travel with the first reads. */
    known?: Pick<Order, 'strategy' | 'symbol' | 'filledQty'>;
  } = {},
): Promise<AppliedOrder> {
  const applied = await transaction(
    ctx.sql,
    async (tx, control) => {
      const unchanged = (order: Order): AppliedOrder => ({ order, trades: [], changed: false });
      // The lock goes first and the fills are read behind it (one round trip): the server runs the
      // read once the lock is held, so it includes whatever a concurrent booking committed.
      const locked = lockOrderWait(tx, orderId);
      locked.catch(() => {}); // awaited just below
      await control.sent();
      const totals = fillTotals(tx, orderId);
      // When the caller's row says the venue filled more, the book's position is locked in the same
      // round trip (after the order: the lock order every booking keeps).
      const early =
        opts.known && cmp(ex.filledQty, opts.known.filledQty) > 0
          ? lockPosition(tx, opts.known.strategy, opts.known.symbol)
          : null;
      early?.catch(() => {}); // awaited below when a fill is booked
      const [order, recorded] = await Promise.all([locked, totals]);
      if (!order) throw new Error(`order ${orderId} not found`);
      if (isFinalStatus(order.status) || order.status === 'pending_submit') return unchanged(order);
      if (cmp(ex.filledQty, recorded.qty) < 0) return unchanged(order);
      let trade: Trade | null = null;
      let position: PositionUpdate | null = null;
      if (cmp(ex.filledQty, recorded.qty) > 0) {
        if (ex.filledAvgPrice === null)
          throw new Error(`order ${orderId}: venue reports a fill without a price`);
        const qty = sub(ex.filledQty, recorded.qty);
        // The new part's price: cumulative notional now, less the notional already recorded, per unit.
        const price = div(sub(mul(ex.filledAvgPrice, ex.filledQty), recorded.notional), qty);
        const [fill, held] = await Promise.all([
          insertFill(tx, {
            orderId,
            exchangeFillId: `${ex.id}:${ex.filledQty}`,
            symbol: order.symbol,
            side: order.side,
            qty,
            price,
            fee: max(sub(ex.fee, recorded.fee), '0'),
            filledAt: ex.filledAt ?? ex.updatedAt,
          }),
          early && opts.known?.strategy === order.strategy && opts.known.symbol === order.symbol
            ? early
            : lockPosition(tx, order.strategy, order.symbol),
        ]);
        if (fill) {
          const b = booking(order.strategy, fill, orderId, held);
          trade = await insertTrade(tx, b.trade);
          if (trade) position = b.position;
        }
      }
      const changed = differs(order, ex);
      const trades = trade ? [trade] : [];
      // Independent writes and the commit, one round trip.
      const [updated] = await Promise.all([
        changed
          ? updateOrder(tx, orderId, {
              status: ex.status,
              exchangeOrderId: ex.id,
              filledQty: ex.filledQty,
              filledAvgPrice: ex.filledAvgPrice,
              errorMessage: ex.reason ?? undefined,
              detail: {
                filledQty: ex.filledQty,
                filledAvgPrice: ex.filledAvgPrice,
                reason: ex.reason ?? null,
              },
            })
          : order,
        position ? savePosition(tx, position) : null,
        control.commit(),
      ]);
      return { order: updated, trades, changed };
    },
    // A booking lost in a PostgreSQL crash is derived again from the venue's cumulative fill (the fills
    // table is the only memory), so its commit need not wait for the disk.
    { synchronousCommit: false },
  );
  // Announced once committed, each in a transaction of its own: the audit log's commit order then
  // follows the announcements (the gateway's event stream walks it in that order).
  await announceTrades(ctx, applied.trades);
  if (applied.changed && opts.announce) await announceOrder(ctx, applied.order);
  return applied;
}

/**
 * Announces a booked batch of trades; for the books of strategies with exits, also that their resting
 * exits need placing, resizing or cancelling (protection.due).
 */
export async function announceTrades(ctx: PipelineContext, trades: readonly Trade[]): Promise<void> {
  if (trades.length === 0) return;
  await publish(ctx, 'trades.recorded', tradesPayload(trades), tradesEventId(trades));
  const books = await booksWithExits(ctx, trades);
  if (books.length > 0) {
    await publish(ctx, 'protection.due', { books }, `protection.due:${tradesEventId(trades)}`.slice(0, 200));
  }
}

/** The (strategy, symbol) books of `trades` whose strategy has exits. */
async function booksWithExits(
  ctx: PipelineContext,
  trades: readonly Trade[],
): Promise<{ strategy: string; symbol: string }[]> {
  const names = new Set(trades.map((t) => t.strategy).filter((n) => n !== 'manual'));
  if (names.size === 0) return [];
  const withExits = new Set<string>();
  for (const config of await getStrategiesByName(ctx.sql, [...names])) {
    try {
      if (hasExits(await strategyExits(config))) withExits.add(config.name);
    } catch (e) {
      // A module that no longer loads: reconcile's sweep reports it with the book.
      logOf(ctx).warn(
        { strategy: config.name, err: errorMessage(e) },
        'exits unknown; protection left to the sweep',
      );
    }
  }
  const seen = new Set<string>();
  const books: { strategy: string; symbol: string }[] = [];
  for (const t of trades) {
    const key = `${t.strategy}|${t.symbol}`;
    if (!withExits.has(t.strategy) || seen.has(key)) continue;
    seen.add(key);
    books.push({ strategy: t.strategy, symbol: t.symbol });
  }
  return books;
}

/** Announces an order's state; the id makes each (status, filled) state one event. */
export async function announceOrder(ctx: PipelineContext, o: AnnouncedOrder): Promise<void> {
  await publish(ctx, 'orders.updated', orderPayload(o), orderEventId(o));
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

/**
 * Our order as its venue reports it now, or null when the venue has none. Looked up by client order id
 * with the symbol (venues that index orders per symbol find closed ones too); once the venue has told
 * us its id, an order under our client id with another venue id is not ours (Binance reuses client ids
 * of closed orders) and is not applied.
 */
async function lookUp(order: Order): Promise<ExchangeOrder | null> {
  const exchange = await getExchange(order.exchange);
  const ex = await exchange.getOrderByClientId(order.clientOrderId, order.symbol);
  if (ex && order.exchangeOrderId !== null && ex.id !== order.exchangeOrderId) {
    throw new Error(
      `the venue's order under client_order_id ${order.clientOrderId} is ${ex.id}, not ours (${order.exchangeOrderId})`,
    );
  }
  return ex;
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
  const ex = await lookUp(order);
  if (!ex)
    return {
      result: { id: order.id, status: order.status, trades: [], note: 'unknown at the exchange' },
      trades: [],
    };
  // Nothing moved since the row was read (a redelivery, or the announcement of an order just placed):
  // no transaction needed.
  if (!differs(order, ex)) return { result: { id: order.id, status: order.status, trades: [] }, trades: [] };
  const applied = await applyExchangeOrder(ctx, order.id, ex, { known: order });
  return {
    result: { id: order.id, status: applied.order.status, trades: applied.trades.map((t) => t.id) },
    trades: applied.trades,
  };
}

/**
 * record-trade: for each order (by id, or from an orders.updated event), fetch it from its exchange and
 * book whatever filled since the last look, announcing each order's trades as they are booked. Errors
 * are per order; the batch continues.
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
      const ex = await lookUp(order);
      if (!ex || !differs(order, ex)) continue;
      if (opts.apply) {
        const applied = await applyExchangeOrder(ctx, order.id, ex, { announce: true, known: order });
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
  if (trades.some((t) => cmp(t.realizedPnl, '0') < 0)) await checkDailyLossAfterTrade(ctx);
  return { checked: rows.length, changed, tradeIds: trades.map((t) => t.id) };
}

/** Books fills that no trade covers yet (inserted by another path, or a crash between the two). */
export async function bookUnbookedFills(ctx: PipelineContext, limit = 500): Promise<Trade[]> {
  const trades: Trade[] = [];
  for (const fillId of await fillsWithoutTrades(ctx.sql, limit)) {
    const trade = await transaction(ctx.sql, async (tx) => {
      const fill = await getFill(tx, fillId);
      if (!fill) return null;
      const order = await lockOrderWait(tx, fill.orderId);
      if (!order) return null;
      return bookFillInto(tx, order.strategy, fill, order.id);
    });
    if (trade) trades.push(trade);
  }
  await announceTrades(ctx, trades);
  return trades;
}

/** The stored order after applying the venue's view (used by cancel and by place-order). */
export async function refreshOrder(ctx: PipelineContext, orderId: number): Promise<Order | null> {
  const order = await getOrder(ctx.sql, orderId);
  if (!order) return null;
  await recordOne(ctx, order);
  return getOrder(ctx.sql, orderId);
}
