/**
 * reconcile (cron): sweeps up whatever a lost message left behind, from the database's truth — claims
 * never confirmed, signals never ordered, orders the exchange moved on, fills without trades, positions
 * without their resting protection — and
 * snapshots each venue's account for the equity curve.
 */
import { insertAccountSnapshot, listStrategies, newSignalsWithoutOrders, openOrders } from '../db/index.ts';
import { defaultExchangeName, getExchange } from '../exchanges/configured.ts';
import { errorMessage, logOf, type PipelineContext } from './context.ts';
import { exchangeOf } from './fetch-bars.ts';
import type { ReconcileInput } from './inputs.ts';
import { placeSignalOrders, resumePendingOrder } from './place-orders.ts';
import { protectPositions } from './protect.ts';
import { bookUnbookedFills, syncOpenOrders } from './record-trades.ts';

export interface ReconcileResult {
  pendingResumed: number;
  signalsPlaced: number;
  ordersChecked: number;
  ordersChanged: number;
  tradesRecorded: number;
  fillsBooked: number;
  /** Positions whose protective order this run placed or moved. */
  positionsProtected: number;
  snapshots: number;
  errors: string[];
}

export async function reconcile(ctx: PipelineContext, input: ReconcileInput): Promise<ReconcileResult> {
  const log = logOf(ctx);
  const errors: string[] = [];
  const note = (what: string, e: unknown): void => {
    errors.push(`${what}: ${errorMessage(e)}`);
    log.error({ err: errorMessage(e) }, `reconcile: ${what} failed`);
  };
  const result: ReconcileResult = {
    pendingResumed: 0,
    signalsPlaced: 0,
    ordersChecked: 0,
    ordersChanged: 0,
    tradesRecorded: 0,
    fillsBooked: 0,
    positionsProtected: 0,
    snapshots: 0,
    errors,
  };

  // Claims whose submit never confirmed: only those older than a moment (a live run may hold one now;
  // its row lock makes a concurrent resume skip it anyway).
  const pending = (await openOrders(ctx.sql, { limit: input.limit })).filter(
    (o) => o.status === 'pending_submit',
  );
  for (const order of pending) {
    try {
      const r = await resumePendingOrder(ctx, order);
      if (r.outcome !== 'in_progress') result.pendingResumed++;
    } catch (e) {
      note(`pending order ${order.id}`, e);
    }
  }

  try {
    const signalIds = await newSignalsWithoutOrders(ctx.sql, input.limit);
    if (signalIds.length) {
      const placed = await placeSignalOrders(ctx, signalIds);
      result.signalsPlaced = placed.filter((p) => p.outcome === 'ordered').length;
    }
  } catch (e) {
    note('signals', e);
  }

  try {
    const synced = await syncOpenOrders(ctx, { apply: true, limit: input.limit });
    result.ordersChecked = synced.checked;
    result.ordersChanged = synced.changed.length;
    result.tradesRecorded = synced.tradeIds.length;
  } catch (e) {
    note('orders', e);
  }

  try {
    result.fillsBooked = (await bookUnbookedFills(ctx, input.limit)).length;
  } catch (e) {
    note('fills', e);
  }

  try {
    // Protection a lost bars.fetched / trades.recorded should have placed or moved.
    const { books } = await protectPositions(ctx);
    result.positionsProtected = books.filter((b) => b.action === 'placed' || b.action === 'replaced').length;
    for (const b of books.filter((x) => x.action === 'error'))
      note(`protection of ${b.strategy} ${b.symbol}`, new Error(b.reason));
  } catch (e) {
    note('protection', e);
  }

  if (input.snapshot) {
    const venues = new Set<string>([defaultExchangeName()]);
    for (const s of await listStrategies(ctx.sql, { enabled: true })) venues.add(exchangeOf(s));
    for (const name of venues) {
      try {
        const account = await (await getExchange(name)).getAccount();
        await insertAccountSnapshot(ctx.sql, account);
        result.snapshots++;
      } catch (e) {
        note(`account snapshot (${name})`, e);
      }
    }
  }
  return result;
}
