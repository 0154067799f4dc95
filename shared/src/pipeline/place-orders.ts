/**
 * place-order: signals (or a person) → orders at the exchange, never twice.
 *
 * Every order has a deterministic client_order_id. Placing one is claim-then-submit:
 *   1. under the risk lock: if no row has the id, run the risk checks and INSERT it as `pending_submit`
 *      (ON CONFLICT DO NOTHING) — the claim — and COMMIT it;
 *   2. in a second transaction (begun in the same write as that COMMIT, on the same connection), lock
 *      the row FOR UPDATE SKIP LOCKED (a concurrent worker holding it is already submitting: this one
 *      stops), and if this worker did not create the row — a redelivery, a restart after a crash — look
 *      the id up at the exchange before submitting (an order found there is adopted only if it is ours);
 *   3. submit, store the exchange's id and status (+ history), mark the signal and stage orders.updated,
 *      then commit (in the same write) and publish.
 * A crash between 1 and 3 leaves `pending_submit`, which the next delivery or the reconcile sweep resumes
 * through the same lookup-first path. Exchange refusals become the row's error_code / error_message.
 * Round trips are what this path costs, so statements that can travel together do (db/transaction.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import {
  getOrderByClientId,
  getPosition,
  getSignals,
  getStrategy,
  latestBarTime,
  markSignal,
  openOrders,
  openProtectiveOrder,
  pgArray,
  transaction,
} from '../db/index.ts';
import { defaultExchangeName, getExchange } from '../exchanges/configured.ts';
import type { ExchangeAdapter } from '../exchanges/index.ts';
import { marketHoursFor } from '../exchanges/market-hours.ts';
import {
  abs,
  add,
  div,
  fromNumber,
  isNegative,
  isPositive,
  isZero,
  mul,
  neg,
  roundDownToStep,
  sub,
  sum,
} from '../money/index.ts';
import type { RiskCode } from '../risk/index.ts';
import { HttpError, notFound } from '../runtime/errors.ts';
import {
  type ManualOrderResult,
  type Order,
  type Side,
  type Signal,
  Sizing,
  type StrategyConfig,
  TIMEFRAMES,
} from '../schemas/index.ts';
import { exitRuleText } from '../strategies/exits.ts';
import { cancelConfirmed } from './cancel.ts';
import { errorMessage, logOf, type PipelineContext } from './context.ts';
import { exchangeOf } from './fetch-bars.ts';
import type { ManualOrder, PlaceOrderInput } from './inputs.ts';
import { protectHeldBook, withBookLock } from './protect.ts';
import {
  claimAndSubmit,
  finishSubmit,
  type PlaceOutcome,
  type SubmitResult,
  type SubmitVeto,
  submitClaimed,
} from './submit.ts';

/** 'wv-' + 29 hex digits of sha256(strategy|symbol|bar time|side): 32 characters, so Binance accepts it too. */
export function clientOrderIdFor(strategy: string, symbol: string, barTime: string, side: Side): string {
  const iso = new Date(barTime).toISOString();
  return `wv-${createHash('sha256').update(`${strategy}|${symbol}|${iso}|${side}`).digest('hex').slice(0, 29)}`;
}

/** Random id for a manual order placed without an idempotency key. */
export const manualClientOrderId = (): string => `wv-m${randomBytes(14).toString('hex')}`;

/** A pending_submit row older than this, unknown to the exchange, is abandoned rather than submitted late. */
export const PENDING_SUBMIT_TTL_MS = 2 * 60_000;

/**
 * ordered: submitted now (or found at the exchange after a crash) · exists: an earlier run placed it ·
 * in_progress: another worker holds the claim · skipped: nothing to do (stale signal, already positioned,
 * disabled strategy) · rejected: a risk limit refused it · failed: the exchange refused it · retry: the
 * exchange did not answer; the claim waits for the next delivery or the reconcile sweep.
 */
export type { ManualOrderResult, PlaceOutcome };

export interface PlaceResult {
  signalId: number | null;
  outcome: PlaceOutcome;
  orderId?: number;
  clientOrderId?: string;
  status?: string;
  reason?: string;
  riskCode?: RiskCode;
}

// ---- sizing -------------------------------------------------------------------------------------

/**
 * The book's position plus what its open orders will still add or remove (signed). A resting protective
 * order is not a planned change: it closes the position only if the market reaches its level, and any
 * other closing order cancels it first (protect.ts).
 */
export async function effectivePosition(sql: Sql, strategy: string, symbol: string): Promise<string> {
  const [position, open] = await Promise.all([
    getPosition(sql, strategy, symbol),
    openOrders(sql, { strategy, symbol }),
  ]);
  const pending = open
    .filter((o) => o.qty !== null && !o.protective)
    .map((o) => {
      const rest = sub(o.qty!, o.filledQty);
      return o.side === 'buy' ? rest : neg(rest);
    });
  return add(position?.qty ?? '0', sum(pending));
}

const lotStep = (exchange: ExchangeAdapter): string => (exchange.capabilities.fractional ? '0.000001' : '1');

/** Units one entry trades under the strategy's sizing rule at `price`. */
async function entryQty(sizing: Sizing, price: string, exchange: ExchangeAdapter): Promise<string> {
  switch (sizing.type) {
    case 'fixed_qty':
      return sizing.qty;
    case 'fixed_notional':
      return roundDownToStep(div(sizing.notional, price), lotStep(exchange));
    case 'percent_equity': {
      const account = await exchange.getAccount();
      const budget = mul(account.equity, fromNumber(sizing.percent / 100));
      return roundDownToStep(div(budget, price), lotStep(exchange));
    }
  }
}

/**
 * What a signal asks for given the book. BUY means "be long": cover a short (and, with shorting allowed,
 * reverse), open when flat, nothing when already long. SELL means "be out": close a long; open (or
 * reverse into) a short only when the strategy allows shorting.
 */
export async function sizeSignal(
  signal: Signal,
  strategy: StrategyConfig,
  position: string,
  exchange: ExchangeAdapter,
): Promise<{ qty: string } | { skip: string }> {
  const sizing = Sizing.safeParse(strategy.sizing);
  if (!sizing.success) {
    const issue = sizing.error.issues[0];
    return { skip: `strategy sizing is invalid: sizing.${issue.path.join('.')}: ${issue.message}` };
  }
  const price = fromNumber(signal.price);
  const entry = async (): Promise<string> => entryQty(sizing.data, price, exchange);
  let qty: string;
  if (signal.exit) {
    // An exit closes what is open, in full, and never opens or reverses a position.
    const closes = signal.side === 'sell' ? isPositive(position) : isNegative(position);
    if (!closes)
      return {
        skip: `${exitRuleText(signal.exit)}: no ${signal.side === 'sell' ? 'long' : 'short'} position left to close`,
      };
    qty = abs(position);
  } else if (signal.side === 'buy') {
    if (isPositive(position)) return { skip: `already long ${position}` };
    qty = isZero(position)
      ? await entry()
      : strategy.allowShort
        ? add(abs(position), await entry())
        : abs(position);
  } else {
    if (isNegative(position)) return { skip: `already short ${position}` };
    if (isZero(position)) {
      if (!strategy.allowShort) return { skip: 'no long position to sell (shorting not allowed)' };
      qty = await entry();
    } else {
      qty = strategy.allowShort ? add(position, await entry()) : position;
    }
  }
  if (!isPositive(qty)) return { skip: `order size rounds to zero (${sizing.data.type})` };
  return { qty };
}

// ---- signals ------------------------------------------------------------------------------------

async function staleReason(sql: Sql, signal: Signal): Promise<string | null> {
  const newest = await latestBarTime(sql, signal.symbol, signal.timeframe);
  if (newest === null || newest === Date.parse(signal.barTime)) return null;
  return `stale: a newer bar (${new Date(newest).toISOString()}) exists`;
}

/**
 * A signal is acted on only while its market is open (stocks: the venue's session; crypto and the sim:
 * always). One arriving while the market is closed is skipped with the reason, not kept for the open:
 * it was decided on a bar's close, the open may gap far from that price (and an order queued at the
 * venue fills at the opening auction, a price the risk check never saw), and the strategy decides again
 * on the session's first bars with current prices. A person's manual order is not held to this: a
 * venue that queues orders for the open (Alpaca's day orders) takes it as asked.
 */
async function marketClosedReason(exchange: ExchangeAdapter, symbol: string): Promise<string | null> {
  const hours = await marketHoursFor(exchange, symbol);
  return hours.open ? null : (hours.reason ?? 'market closed');
}

/** Why a signal's claim must not be sent now: a newer bar exists, or its market has closed meanwhile. */
async function signalVeto(tx: Sql, signal: Signal, exchange: ExchangeAdapter): Promise<string | null> {
  return (await staleReason(tx, signal)) ?? (await marketClosedReason(exchange, signal.symbol));
}

/**
 * Runs `place` — an order that may take the book's position — after cancelling the book's resting
 * protective order, confirmed, under the book's lock: the venue holds that order's quantity, and both
 * could otherwise sell the same shares. When `place` sends nothing (`sent` says), the protection goes
 * back before the lock is released. Without a protective order on that side, `place` just runs.
 */
async function releasingProtection<T>(
  ctx: PipelineContext,
  book: { strategy: string; symbol: string; side: Side },
  protective: Order | null,
  place: () => Promise<T>,
  sent: (r: T) => boolean,
): Promise<T> {
  if (!protective || protective.side !== book.side) return place();
  return withBookLock(ctx, book.strategy, book.symbol, async () => {
    await cancelConfirmed(ctx, protective);
    const r = await place();
    if (!sent(r)) {
      const config = await getStrategy(ctx.sql, book.strategy);
      if (config) await protectHeldBook(ctx, config, book.symbol);
    }
    return r;
  });
}

const wentOut = (r: { outcome: PlaceOutcome }): boolean => r.outcome === 'ordered' || r.outcome === 'exists';

async function placeSignal(ctx: PipelineContext, signal: Signal, released = false): Promise<PlaceResult> {
  const base = { signalId: signal.id };
  const clientOrderId = clientOrderIdFor(signal.strategy, signal.symbol, signal.barTime, signal.side);
  const price = fromNumber(signal.price);
  const stillValid: SubmitVeto = (_order, tx, exchange) => signalVeto(tx, signal, exchange);
  const fresh = signal.status === 'new';
  // Independent reads in one round trip and one snapshot: a concurrent delivery's claim is either in
  // all of them (the order exists: finish it) or in none (claim it; the claim finds the other), never
  // only in the book's open orders (which would read as a position to skip the signal for).
  const [strategy, existing, stale, position, protection] = await transaction(
    ctx.sql,
    (tx, control) =>
      Promise.all([
        getStrategy(tx, signal.strategy),
        getOrderByClientId(tx, clientOrderId),
        fresh ? staleReason(tx, signal) : null,
        fresh ? effectivePosition(tx, signal.strategy, signal.symbol) : null,
        fresh && !released ? openProtectiveOrder(tx, signal.strategy, signal.symbol) : null,
        control.commit(),
      ]),
    { snapshot: true },
  );
  if (existing) {
    // Redelivery or restart: never decide again, only finish what the claim started.
    const r = await submitClaimed(ctx, existing.id, price, stillValid);
    const order = await finishSubmit(ctx, r);
    return {
      ...base,
      outcome: r.outcome,
      orderId: existing.id,
      clientOrderId,
      status: order?.status,
      reason: r.reason,
    };
  }
  if (!fresh || position === null)
    return { ...base, outcome: 'exists', reason: `signal already ${signal.status}` };
  const exchangeName = strategy ? exchangeOf(strategy) : defaultExchangeName();

  const skip = async (reason: string): Promise<PlaceResult> => {
    await markSignal(ctx.sql, signal.id, 'skipped', reason);
    return { ...base, outcome: 'skipped', reason };
  };
  if (!strategy) return skip('strategy no longer exists');
  if (!strategy.enabled) return skip('strategy is disabled');
  if (stale) return skip(stale);
  if (protection && protection.side === signal.side) {
    // Decided again under the lock, once the protection is gone (and its fills, if any, booked).
    return releasingProtection(ctx, signal, protection, () => placeSignal(ctx, signal, true), wentOut);
  }

  const exchange = await getExchange(exchangeName);
  const closed = await marketClosedReason(exchange, signal.symbol);
  if (closed) return skip(closed);
  const sized = await sizeSignal(signal, strategy, position, exchange);
  if ('skip' in sized) return skip(sized.skip);

  // The order the strategy asked for (a market order unless its hint says otherwise; an exit is always
  // one); risk is checked at the highest price it names, the most it can be worth.
  const hint = signal.exit ? null : (signal.order ?? null);
  const named = [signal.price, hint?.limitPrice ?? 0, hint?.stopPrice ?? 0];
  const claim = await claimAndSubmit(
    ctx,
    {
      intent: {
        clientOrderId,
        exchange: exchangeName,
        strategy: strategy.name,
        signalId: signal.id,
        symbol: signal.symbol,
        side: signal.side,
        type: hint?.type ?? 'market',
        timeInForce: hint?.timeInForce ?? (exchange.capabilities.alwaysOpen ? 'gtc' : 'day'),
        qty: sized.qty,
        ...(hint?.limitPrice !== undefined ? { limitPrice: fromNumber(hint.limitPrice) } : {}),
        ...(hint?.stopPrice !== undefined ? { stopPrice: fromNumber(hint.stopPrice) } : {}),
      },
      referencePrice: fromNumber(Math.max(...named)),
      position,
    },
    { veto: stillValid },
  );
  if (claim.kind === 'rejected') {
    await markSignal(ctx.sql, signal.id, 'rejected', claim.reason);
    return { ...base, outcome: 'rejected', reason: claim.reason, riskCode: claim.code };
  }
  const r = claim.submit;
  const order = await finishSubmit(ctx, r);
  return {
    ...base,
    outcome: r.outcome,
    orderId: claim.order.id,
    clientOrderId,
    status: order?.status,
    reason: r.reason,
  };
}

/** place-order for signals: each handled on its own; one failure never stops the batch. */
export async function placeSignalOrders(
  ctx: PipelineContext,
  signalIds: readonly number[],
): Promise<PlaceResult[]> {
  const signals = await getSignals(ctx.sql, signalIds);
  const found = new Set(signals.map((s) => s.id));
  const missing = signalIds.findIndex((id) => !found.has(id));
  if (missing >= 0) throw notFound(`signal ${signalIds[missing]}`, `signalIds.${missing}`);
  const out: PlaceResult[] = [];
  for (const signal of signals) {
    try {
      out.push(await placeSignal(ctx, signal));
    } catch (e) {
      logOf(ctx).error({ signalId: signal.id, err: errorMessage(e) }, 'placing order for signal failed');
      out.push({ signalId: signal.id, outcome: 'retry', reason: errorMessage(e) });
    }
  }
  return out;
}

// ---- manual orders ------------------------------------------------------------------------------

/** The newest stored close of a symbol (any timeframe), or the exchange's latest 1Min bar. */
async function lastPrice(sql: Sql, exchange: ExchangeAdapter, symbol: string): Promise<string | null> {
  const [row] = await sql<{ close: number }[]>`
    SELECT b.close FROM unnest(${pgArray([...TIMEFRAMES])}::text[]) AS tf(timeframe)
    CROSS JOIN LATERAL (SELECT ts, close FROM bars WHERE symbol = ${symbol} AND timeframe = tf.timeframe ORDER BY ts DESC LIMIT 1) b
    ORDER BY b.ts DESC LIMIT 1`;
  if (row) return fromNumber(row.close);
  const [latest] = await exchange.getLatestBars([symbol], '1Min').catch(() => []);
  return latest ? fromNumber(latest.close) : null;
}

/**
 * Places a person's order (the API's "buy/sell" and place-order over HTTP) through the same claim,
 * risk checks and submit as signals. Answers 400 for a symbol the exchange does not list and 422 when
 * a risk limit refuses it (nothing is written then).
 */
export async function placeManualOrder(ctx: PipelineContext, input: ManualOrder): Promise<ManualOrderResult> {
  // A strategy's book lives on the strategy's venue: an order for it goes there, and only there.
  let exchange = input.exchange;
  if (input.strategy !== 'manual') {
    const strategy = await getStrategy(ctx.sql, input.strategy);
    if (!strategy) throw notFound(`strategy "${input.strategy}"`, 'order.strategy');
    const venue = exchangeOf(strategy);
    if (exchange !== undefined && exchange !== venue) {
      throw new HttpError(
        400,
        'invalid_input',
        `invalid input: order.exchange: ${input.strategy} trades on ${venue}`,
        {
          'order.exchange': `${input.strategy} trades on ${venue}`,
        },
      );
    }
    exchange = venue;
  }
  const order = { ...input, exchange };
  const protective =
    input.strategy === 'manual' ? null : await openProtectiveOrder(ctx.sql, input.strategy, input.symbol);
  return releasingProtection(
    ctx,
    input,
    protective?.exchange === exchange ? protective : null,
    () => placeManualOrderNow(ctx, order),
    wentOut,
  );
}

async function placeManualOrderNow(ctx: PipelineContext, input: ManualOrder): Promise<ManualOrderResult> {
  const exchangeName = input.exchange ?? defaultExchangeName();
  const exchange = await getExchange(exchangeName).catch((e: unknown) => {
    throw new HttpError(400, 'invalid_input', `unknown exchange "${exchangeName}": ${errorMessage(e)}`, {
      'order.exchange': 'unknown exchange',
    });
  });
  // Independent look-ups at once; the answers are checked in the order the caller should hear them.
  const [tradable, strategy, stored, position] = await Promise.all([
    exchange.isTradable(input.symbol),
    input.strategy === 'manual' ? null : getStrategy(ctx.sql, input.strategy),
    (input.limitPrice ?? input.stopPrice) ? null : lastPrice(ctx.sql, exchange, input.symbol),
    effectivePosition(ctx.sql, input.strategy, input.symbol),
  ]);
  if (!tradable) {
    throw new HttpError(
      400,
      'invalid_input',
      `invalid input: order.symbol: unknown symbol on ${exchangeName}`,
      {
        'order.symbol': `unknown symbol on ${exchangeName}`,
      },
    );
  }
  if (input.strategy !== 'manual' && !strategy) {
    throw notFound(`strategy "${input.strategy}"`, 'order.strategy');
  }
  const referencePrice = input.limitPrice ?? input.stopPrice ?? stored ?? undefined;
  if (!referencePrice) {
    throw new HttpError(422, 'no_price', `no price known for ${input.symbol} to check risk limits against`, {
      'order.symbol': 'no price known',
    });
  }
  const clientOrderId = input.clientOrderId ?? manualClientOrderId();
  const claim = await claimAndSubmit(
    ctx,
    {
      intent: {
        clientOrderId,
        exchange: exchangeName,
        strategy: input.strategy,
        signalId: null,
        symbol: input.symbol,
        side: input.side,
        type: input.type,
        timeInForce: input.timeInForce,
        qty: input.qty ?? null,
        notional: input.notional ?? null,
        limitPrice: input.limitPrice ?? null,
        stopPrice: input.stopPrice ?? null,
        trailPercent: input.trailPercent ?? null,
      },
      referencePrice,
      position,
    },
    {
      accept: (order, created) => {
        if (!created && order.strategy !== input.strategy) {
          throw new HttpError(409, 'conflict', `clientOrderId ${clientOrderId} belongs to another order`, {
            'order.clientOrderId': 'already used',
          });
        }
      },
      veto: (o, tx) => tooOld(tx, o),
    },
  );
  if (claim.kind === 'rejected') {
    throw new HttpError(422, claim.code, `refused by risk limits: ${claim.reason}`, { order: claim.reason });
  }
  const r = claim.submit;
  const order = await finishSubmit(ctx, r);
  return { outcome: r.outcome, order: order ?? claim.order, reason: r.reason ?? null };
}

/** place-order: `{ signalIds }` from signals.created (or HTTP), or `{ order }` for a manual order. */
export async function placeOrders(
  ctx: PipelineContext,
  input: PlaceOrderInput,
): Promise<{ results: PlaceResult[] } | ManualOrderResult> {
  if (input.order) return placeManualOrder(ctx, input.order);
  return { results: await placeSignalOrders(ctx, input.signalIds ?? []) };
}

/**
 * A claim older than the TTL that never reached the exchange is abandoned, not submitted late. Measured
 * by the database's wall clock, like the row's created_at: how long ago a person or a run asked, which an
 * accelerated market clock must not stretch.
 */
async function tooOld(sql: Sql, o: Order): Promise<string | null> {
  const [row] = await sql<{ old: boolean }[]>`
    SELECT now() - created_at > ${PENDING_SUBMIT_TTL_MS} * interval '1 millisecond' AS old FROM orders WHERE id = ${o.id}`;
  return row?.old ? `not submitted within ${PENDING_SUBMIT_TTL_MS / 1000}s of the claim; abandoned` : null;
}

/** Resumes an order left in pending_submit (reconcile): lookup first, submit only if still timely. */
export async function resumePendingOrder(ctx: PipelineContext, order: Order): Promise<SubmitResult> {
  const r = await submitClaimed(ctx, order.id, undefined, async (o, tx, exchange) => {
    if (o.signalId !== null) {
      const [signal] = await getSignals(tx, [o.signalId]);
      const veto = signal ? await signalVeto(tx, signal, exchange) : 'signal no longer exists';
      if (veto) return veto;
    }
    return tooOld(tx, o);
  });
  await finishSubmit(ctx, r);
  return r;
}
