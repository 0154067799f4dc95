/**
 * A person's controls over live trading, for the API: close a position, cancel an order, and the kill
 * switch (halt = record the halt + cancel open orders but the positions' resting exits, optionally flatten;
 * resume clears it).
 */
import { createHash } from 'node:crypto';
import { clock } from '../clock/index.ts';
import {
  clearHalts,
  getOrder,
  getPosition,
  getStrategy,
  listPositions,
  openOrders,
  recordHalt,
} from '../db/index.ts';
import { getExchange } from '../exchanges/configured.ts';
import { ExchangeError } from '../exchanges/index.ts';
import { abs, isNegative, isZero } from '../money/index.ts';
import { GLOBAL_SCOPE, strategyScope } from '../risk/index.ts';
import { conflict, notFound } from '../runtime/errors.ts';
import type { Order, TradingHalt } from '../schemas/index.ts';
import { requestCancel } from './cancel.ts';
import { errorMessage, logOf, type PipelineContext, publish } from './context.ts';
import { exchangeOf } from './fetch-bars.ts';
import { type ManualOrderResult, placeManualOrder } from './place-orders.ts';
import { CANCELED_BY_PERSON, withBookLock } from './protect.ts';
import { announceHalt } from './risk-events.ts';

/**
 * Closes a book's position with a market order. The client order id derives from the position's state,
 * so a double click (or a retried request) closes once.
 */
export async function closePosition(
  ctx: PipelineContext,
  strategy: string,
  symbol: string,
): Promise<ManualOrderResult> {
  const position = await getPosition(ctx.sql, strategy, symbol);
  if (!position || isZero(position.qty))
    throw conflict(`${strategy} has no open position in ${symbol}`, { symbol: 'no open position' });
  const config = strategy === 'manual' ? null : await getStrategy(ctx.sql, strategy);
  const key = `${strategy}|${symbol}|${position.qty}|${position.updatedAt}`;
  const clientOrderId = `wv-c${createHash('sha256').update(key).digest('hex').slice(0, 28)}`;
  return placeManualOrder(ctx, {
    strategy,
    exchange: config ? exchangeOf(config) : undefined,
    symbol,
    side: isNegative(position.qty) ? 'buy' : 'sell',
    type: 'market',
    timeInForce: (await getExchange(config ? exchangeOf(config) : undefined)).capabilities.alwaysOpen
      ? 'gtc'
      : 'day',
    qty: abs(position.qty),
    clientOrderId,
  });
}

/** Cancels one of our orders at its exchange and returns it as stored afterwards. */
export async function cancelOrder(ctx: PipelineContext, orderId: number): Promise<Order> {
  const order = await getOrder(ctx.sql, orderId);
  if (!order) throw notFound(`order ${orderId}`, 'orderId');
  if (['filled', 'canceled', 'expired', 'replaced', 'rejected', 'failed'].includes(order.status)) {
    throw conflict(`order ${orderId} is already ${order.status}`, { orderId: `already ${order.status}` });
  }
  if (order.protective) {
    // A person's word on a position's resting exit: it stays off until the position changes (a new
    // entry); protect-positions would otherwise put it straight back. Under the book's lock, so a
    // concurrent protect run sees the mark or has finished.
    return withBookLock(ctx, order.strategy, order.symbol, async () => {
      await ctx.sql`
        UPDATE orders SET error_code = ${CANCELED_BY_PERSON},
          error_message = 'canceled by a person: not placed again until the position changes'
        WHERE id = ${order.id}`;
      return cancelNow(ctx, order);
    });
  }
  return cancelNow(ctx, order);
}

async function cancelNow(ctx: PipelineContext, order: Order): Promise<Order> {
  const orderId = order.id;
  try {
    return await requestCancel(ctx, order);
  } catch (e) {
    // Filled or canceled meanwhile (what the exchange says is recorded): report the conflict.
    if (e instanceof ExchangeError && (e.code === 'invalid_order' || e.code === 'not_found')) {
      const after = await getOrder(ctx.sql, orderId);
      throw conflict(`order ${orderId} cannot be canceled: ${e.message}`, {
        orderId: after?.status ?? 'not cancelable',
      });
    }
    throw e;
  }
}

export interface HaltInput {
  /** 'global' (default) or 'strategy:<name>'. */
  scope?: string;
  reason: string;
  /** Also close every open position in scope. */
  flatten?: boolean;
  /** ISO instant the halt lapses; absent = until resumed. */
  until?: string | null;
}

export interface HaltResult {
  halt: TradingHalt;
  created: boolean;
  canceled: number[];
  closing: ManualOrderResult[];
  errors: string[];
}

/** The kill switch: records the halt, publishes risk.halted, cancels open orders, optionally flattens. */
export async function haltTrading(ctx: PipelineContext, input: HaltInput): Promise<HaltResult> {
  const scope = input.scope ?? GLOBAL_SCOPE;
  const strategy = scope.startsWith('strategy:') ? scope.slice('strategy:'.length) : null;
  if (scope !== GLOBAL_SCOPE && !(strategy && (await getStrategy(ctx.sql, strategy)))) {
    throw notFound(`scope "${scope}"`, 'scope');
  }
  const { halt, created } = await recordHalt(ctx.sql, {
    scope,
    reason: input.reason,
    until: input.until ?? null,
    now: new Date(clock().now()).toISOString(),
  });
  if (created) await announceHalt(ctx, halt);
  const errors: string[] = [];
  const canceled: number[] = [];
  // A position's resting exit stays: it only ever reduces risk (flattening releases it as it closes).
  const open = (await openOrders(ctx.sql, strategy ? { strategy } : {})).filter((o) => !o.protective);
  for (const o of open) {
    try {
      await cancelOrder(ctx, o.id);
      canceled.push(o.id);
    } catch (e) {
      errors.push(`order ${o.id}: ${errorMessage(e)}`);
    }
  }
  const closing: ManualOrderResult[] = [];
  if (input.flatten) {
    for (const p of await listPositions(ctx.sql, { strategy: strategy ?? undefined, open: true })) {
      try {
        closing.push(await closePosition(ctx, p.strategy, p.symbol));
      } catch (e) {
        errors.push(`position ${p.strategy}/${p.symbol}: ${errorMessage(e)}`);
      }
    }
  }
  if (errors.length) logOf(ctx).warn({ scope, errors }, 'halt finished with errors');
  return { halt, created, canceled, closing, errors };
}

/** Lifts the halts of a scope; publishes risk.resumed when one was in force. */
export async function resumeTrading(
  ctx: PipelineContext,
  scope: string = GLOBAL_SCOPE,
): Promise<TradingHalt[]> {
  const cleared = await clearHalts(ctx.sql, scope, new Date(clock().now()).toISOString());
  if (cleared.length > 0) {
    await publish(
      ctx,
      'risk.resumed',
      { scope },
      `risk.resumed:${scope}:${cleared.map((h) => h.id).join(',')}`,
    );
  }
  return cleared;
}

export { strategyScope };
