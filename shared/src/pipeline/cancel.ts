/**
 * Cancelling an order at its venue: asking (a person's cancel, the kill switch) and asking until the venue
 * confirms (before another order may take the quantity a protective order holds).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from 'postgres';
import { lockOrder, updateOrder } from '../db/index.ts';
import { getExchange } from '../exchanges/configured.ts';
import { ExchangeError } from '../exchanges/index.ts';
import { isFinalStatus, type Order } from '../schemas/index.ts';
import type { PipelineContext } from './context.ts';
import { announceOrder, refreshOrder } from './record-trades.ts';
import { foreignOrderReason } from './venue-orders.ts';

/**
 * Asks the venue to cancel `order` and returns the order as recorded afterwards. A claim never confirmed
 * (`pending_submit`) is cancelled at the venue if it got there, else withdrawn here. Throws the venue's
 * ExchangeError (`invalid_order`, `not_found`) when the order cannot be cancelled — filled or cancelled
 * meanwhile — after recording what the venue says.
 */
export async function requestCancel(ctx: PipelineContext, order: Order): Promise<Order> {
  const exchange = await getExchange(order.exchange);
  if (order.status === 'pending_submit') {
    const canceled = (await ctx.sql.begin(async (txRaw) => {
      const tx = txRaw as unknown as Sql;
      const row = await lockOrder(tx, order.id);
      if (row?.status !== 'pending_submit') return null;
      const found = await exchange.getOrderByClientId(row.clientOrderId, row.symbol);
      // Another order under our id (not ours) is left alone: only our claim is withdrawn.
      const ex = found && !(await foreignOrderReason(exchange, row, found)) ? found : null;
      if (ex) {
        await exchange.cancelOrder(ex.id);
        return updateOrder(tx, order.id, { status: 'pending_cancel', exchangeOrderId: ex.id });
      }
      return updateOrder(tx, order.id, {
        status: 'canceled',
        errorMessage: 'canceled before it was submitted',
      });
    })) as Order | null;
    if (canceled) await announceOrder(ctx, canceled);
    return (await refreshOrder(ctx, order.id)) ?? order;
  }
  try {
    if (!order.exchangeOrderId) throw new ExchangeError('not_found', 'order has no exchange id', 404);
    await exchange.cancelOrder(order.exchangeOrderId);
  } catch (e) {
    await refreshOrder(ctx, order.id);
    throw e;
  }
  const after = (await refreshOrder(ctx, order.id)) ?? order;
  if (after.status !== order.status) await announceOrder(ctx, after);
  return after;
}

/** How long cancelConfirmed waits for a venue that acknowledges a cancel before it completes it. */
export const CANCEL_CONFIRM_ATTEMPTS = 8;

/**
 * Cancels `order` and returns it once the venue reports it final (cancelled, or filled before the cancel
 * arrived), with whatever filled booked. Throws when the venue does not confirm in time: the caller must
 * then not send an order that needs the quantity this one holds.
 */
export async function cancelConfirmed(ctx: PipelineContext, order: Order): Promise<Order> {
  let current = (await refreshOrder(ctx, order.id)) ?? order;
  if (isFinalStatus(current.status)) return current;
  try {
    current = await requestCancel(ctx, current);
  } catch (e) {
    // Not cancelable: it became final meanwhile (the loop below reads it) — anything else is a failure.
    if (!(e instanceof ExchangeError && (e.code === 'invalid_order' || e.code === 'not_found'))) throw e;
  }
  for (let attempt = 0; attempt < CANCEL_CONFIRM_ATTEMPTS; attempt++) {
    current = (await refreshOrder(ctx, order.id)) ?? current;
    if (isFinalStatus(current.status)) return current;
    await sleep(Math.min(50 * 2 ** attempt, 1_000));
  }
  throw new Error(
    `order ${order.id} (${order.clientOrderId}) is still ${current.status} at ${order.exchange} after asking to cancel it`,
  );
}
