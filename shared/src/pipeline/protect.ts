/**
 * protect-positions: a book's open position carries its exits at the venue, as one resting order.
 *
 *   stop (stop-loss and trailing stop, the tighter of the two) and take-profit, where the venue has
 *   one-cancels-other orders   → one oco exit: take-profit limit + stop, one cancelling the other;
 *   a stop, without oco        → a stop order;
 *   no stop orders (crypto on Alpaca, CCXT) → the take-profit as a limit order.
 * Whatever does not rest is watched at bar close by generate-signals, which skips the rules a resting
 * order covers (restingExits on the adapter says what can rest for a symbol and size).
 *
 * So the position is protected between bars and while Weaver or its host is down, and the venue fills
 * inside the bar at the level, as the backtester does. The order is replaced (cancel, confirmed, then a
 * new one) when the trailing level moves or the position's size changes, and cancelled when the position
 * is closed. Its levels are the backtester's (strategies/exits.ts), from the stored bars since the
 * position opened: the best price of every completed bar counts, so the order in force during a bar is
 * the one the backtester checks that bar against. When the last close is already beyond a level (the
 * trailing level rose above the market within the bar), the position is closed at market — the
 * backtester's fill at the next open.
 *
 * It runs on `protection.due`, which generate-signals publishes for the books with exits and an open
 * position (or a resting order) on each new bar, and announcing trades publishes for the books of
 * strategies with exits; reconcile sweeps every book. Strategies without exits cost nothing.
 *
 * Safe to repeat, and never two protective orders: one book is handled at a time (an advisory lock), the
 * database allows one live protective order per book (orders_one_protective_idx), each order's client id
 * numbers it in the book's sequence (a retry finds the same id), and the old order is confirmed final at
 * the venue before the new one is sent. Any other closing order of the book first cancels the protective
 * one (place-orders.ts, under the same lock), so the two never sell the same shares.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from 'postgres';
import { z } from 'zod';
import {
  closeInFlight,
  FINAL_STATUSES,
  getPosition,
  listStrategies,
  type NewOrder,
  pgArray,
  protectiveState,
} from '../db/index.ts';
import { getExchange } from '../exchanges/configured.ts';
import type { ExchangeAdapter } from '../exchanges/index.ts';
import { roundToStep } from '../exchanges/symbols.ts';
import { abs, eq, fromNumber, isPositive, isZero } from '../money/index.ts';
import {
  EVENT_PAYLOADS,
  isFinalStatus,
  type Order,
  type OrderStatus,
  type Position,
  Slug,
  type StrategyConfig,
  TIMEFRAME_MS,
  type Timeframe,
  TradingSymbol,
  takeProfitOf,
} from '../schemas/index.ts';
import { exitLevels, hasExits, type StrategyExits, strategyExits } from '../strategies/index.ts';
import { cancelConfirmed } from './cancel.ts';
import { errorMessage, logOf, type PipelineContext } from './context.ts';
import { exchangeOf } from './fetch-bars.ts';
import { refreshOrder } from './record-trades.ts';
import { claimAndSubmit, finishSubmit } from './submit.ts';

/**
 * HTTP or a sweep (strategies / symbols / exchange; nothing: every book), or the `protection.due` payload
 * (the books a new bar or a trade concerns).
 */
export const ProtectPositionsInput = z.strictObject({
  strategies: z.array(Slug).min(1).max(100).optional(),
  symbols: z.array(TradingSymbol).min(1).max(200).optional(),
  exchange: Slug.optional(),
  books: EVENT_PAYLOADS['protection.due'].shape.books.optional(),
});
export type ProtectPositionsInput = z.input<typeof ProtectPositionsInput>;

/**
 * kept: the resting order already says the right thing · placed / replaced: a new one rests ·
 * closing: the level is already passed, a market order closes · canceled: no position (or no exits)
 * left to protect · waiting: another closing order or signal of the book is in flight · unsupported /
 * refused: the venue cannot rest this order (exits are then watched at bar close) · paused: a person
 * cancelled this position's protective order (watched at bar close until the position changes) ·
 * none: nothing to do ·
 * error: see reason (retried on the next run).
 */
export type ProtectAction =
  | 'kept'
  | 'placed'
  | 'replaced'
  | 'closing'
  | 'canceled'
  | 'waiting'
  | 'unsupported'
  | 'refused'
  | 'paused'
  | 'none'
  | 'error';

export interface ProtectResult {
  strategy: string;
  symbol: string;
  action: ProtectAction;
  orderId?: number;
  clientOrderId?: string;
  stopPrice?: string | null;
  takeProfit?: string | null;
  reason?: string;
}

/** The error code a person's cancel of a protective order leaves on it (controls.ts). */
export const CANCELED_BY_PERSON = 'canceled_by_person';

/** The order a position should have resting, or why none. */
type Plan =
  | { kind: 'order'; intent: Omit<NewOrder, 'clientOrderId' | 'exchange'>; referencePrice: string }
  | { kind: 'none' | 'unsupported'; reason: string };

const bookKey = (strategy: string, symbol: string): string => `protect|${strategy}|${symbol}`;

/** How long a caller waits for a book another worker is protecting or closing. */
export const BOOK_LOCK_WAIT_MS = 20_000;

/**
 * Runs `fn` holding the book's advisory lock (a session lock on a connection of its own). A waiter holds
 * no connection while it waits, so waiters can never use up the pool the holder needs to finish.
 */
export async function withBookLock<T>(
  ctx: PipelineContext,
  strategy: string,
  symbol: string,
  fn: () => Promise<T>,
): Promise<T> {
  const key = bookKey(strategy, symbol);
  const deadline = Date.now() + BOOK_LOCK_WAIT_MS;
  for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
    const conn = await ctx.sql.reserve();
    let locked = false;
    try {
      [{ locked }] = await conn<{ locked: boolean }[]>`
        SELECT pg_try_advisory_lock(hashtextextended(${key}, 0)) AS locked`;
      if (locked) {
        try {
          return await fn();
        } finally {
          await conn`SELECT pg_advisory_unlock(hashtextextended(${key}, 0))`;
        }
      }
    } finally {
      conn.release();
    }
    if (Date.now() > deadline)
      throw new Error(`${strategy} ${symbol}: another worker held the book for ${BOOK_LOCK_WAIT_MS / 1000}s`);
    await sleep(wait);
  }
}

/** The venue's price grid: its tick where it publishes one, else cents (hundredths of a cent below $1). */
async function tickOf(exchange: ExchangeAdapter, symbol: string, price: string): Promise<string> {
  if (exchange.instrumentRules) {
    try {
      return (await exchange.instrumentRules(symbol)).priceTick(price);
    } catch {
      // Rules unavailable: the default grid below.
    }
  }
  return Number(price) >= 1 ? '0.01' : '0.0001';
}

/** Best price since the position opened (its bars, completed ones only) and the newest close. */
async function marks(
  sql: Sql,
  symbol: string,
  timeframe: Timeframe,
  position: Position,
): Promise<{ high: number | null; low: number | null; last: number | null }> {
  // The bars the position lived through: from the one its first fill fell in.
  const since = position.openedAt ? new Date(Date.parse(position.openedAt) - TIMEFRAME_MS[timeframe]) : null;
  const [row] = await sql<{ hi: number | null; lo: number | null; last: number | null }[]>`
    SELECT
      (SELECT max(high) FROM bars WHERE symbol = ${symbol} AND timeframe = ${timeframe} AND ts > ${since}) AS hi,
      (SELECT min(low) FROM bars WHERE symbol = ${symbol} AND timeframe = ${timeframe} AND ts > ${since}) AS lo,
      (SELECT close FROM bars WHERE symbol = ${symbol} AND timeframe = ${timeframe} ORDER BY ts DESC LIMIT 1) AS last`;
  return { high: row?.hi ?? null, low: row?.lo ?? null, last: row?.last ?? null };
}

/** What should rest for `position` under `exits` (levels on the venue's tick, towards the market). */
async function planFor(
  ctx: PipelineContext,
  config: StrategyConfig,
  exits: StrategyExits,
  position: Position,
  exchange: ExchangeAdapter,
): Promise<Plan> {
  if (isZero(position.qty)) return { kind: 'none', reason: 'no open position' };
  if (!hasExits(exits)) return { kind: 'none', reason: 'the strategy has no exits' };
  const long = isPositive(position.qty);
  const entry = Number(position.avgPrice);
  const m = await marks(ctx.sql, position.symbol, config.timeframe, position);
  const mark = long ? Math.max(entry, m.high ?? entry) : Math.min(entry, m.low ?? entry);
  const levels = exitLevels(long, entry, mark, exits);
  const side = long ? ('sell' as const) : ('buy' as const);
  const qty = abs(position.qty);
  const caps = exchange.capabilities;
  // On the grid, towards the market: the stop triggers and the target fills whenever the exact level
  // is reached (the backtester's levels), never later.
  const onGrid = async (level: number | null, up: boolean): Promise<string | null> => {
    if (level === null) return null;
    const raw = fromNumber(Number(level.toPrecision(12)));
    return roundToStep(raw, await tickOf(exchange, position.symbol, raw), up ? 'up' : 'down');
  };
  const stop = await onGrid(levels.stop, long);
  const takeProfit = await onGrid(levels.takeProfit, !long);
  const timeInForce =
    caps.alwaysOpen || /^\d+$/.test(qty.replace(/\.0*$/, '')) ? ('gtc' as const) : ('day' as const);
  const base = {
    strategy: config.name,
    signalId: null,
    symbol: position.symbol,
    side,
    qty,
    timeInForce,
    protective: true,
  };
  const last = m.last;
  if (last !== null) {
    const passedStop = stop !== null && (long ? last <= Number(stop) : last >= Number(stop));
    const passedTarget =
      takeProfit !== null && (long ? last >= Number(takeProfit) : last <= Number(takeProfit));
    if (passedStop || passedTarget) {
      return {
        kind: 'order',
        intent: {
          ...base,
          type: 'market',
          timeInForce: caps.alwaysOpen ? 'gtc' : 'day',
          stopRule: passedStop ? levels.stopRule : null,
        },
        referencePrice: fromNumber(last),
      };
    }
  }
  const reference = fromNumber(last ?? entry);
  const can = exchange.restingExits
    ? await exchange.restingExits(position.symbol, qty)
    : { stop: caps.orderTypes.includes('stop'), oco: caps.oco === true };
  if (stop !== null && can.stop) {
    if (takeProfit !== null && can.oco) {
      return {
        kind: 'order',
        intent: {
          ...base,
          type: 'limit',
          orderClass: 'oco',
          limitPrice: takeProfit,
          stopPrice: stop,
          stopRule: levels.stopRule,
        },
        referencePrice: reference,
      };
    }
    // The take-profit, if any, is then watched at bar close (generate-signals).
    return {
      kind: 'order',
      intent: { ...base, type: 'stop', stopPrice: stop, stopRule: levels.stopRule },
      referencePrice: reference,
    };
  }
  if (takeProfit === null)
    return {
      kind: 'unsupported',
      reason: `${exchange.name} cannot rest a stop order for ${position.symbol}`,
    };
  // The stop, if any, is then watched at bar close (generate-signals).
  return {
    kind: 'order',
    intent: { ...base, type: 'limit', limitPrice: takeProfit, stopRule: null },
    referencePrice: reference,
  };
}

const sameDecimal = (a: string | null | undefined, b: string | null | undefined): boolean =>
  a === null || a === undefined || b === null || b === undefined ? (a ?? null) === (b ?? null) : eq(a, b);

/** True when the resting order already is the planned one. */
function restsAsPlanned(o: Order, p: Omit<NewOrder, 'clientOrderId' | 'exchange'>): boolean {
  return (
    o.side === p.side &&
    o.type === p.type &&
    o.orderClass === (p.orderClass ?? 'simple') &&
    sameDecimal(o.qty, p.qty) &&
    sameDecimal(o.limitPrice, p.limitPrice) &&
    sameDecimal(o.stopPrice, p.stopPrice)
  );
}

/** 'wv-p' + 28 hex digits of sha256(strategy|symbol|n): the book's n-th protective order. */
export function protectiveClientOrderId(strategy: string, symbol: string, n: number): string {
  return `wv-p${createHash('sha256').update(`${strategy}|${symbol}|${n}`).digest('hex').slice(0, 28)}`;
}

/** Brings one book's resting protection in line with its position. Call it holding the book's lock. */
async function protectBookLocked(
  ctx: PipelineContext,
  config: StrategyConfig,
  exits: StrategyExits,
  symbol: string,
): Promise<ProtectResult> {
  const out = { strategy: config.name, symbol };
  const exchangeName = exchangeOf(config);
  const exchange = await getExchange(exchangeName);
  let replaced = false;
  // A fill found on the way (the old order traded) changes the position: look again, a few times at most.
  for (let round = 0; round < 3; round++) {
    const [position, state] = await Promise.all([
      getPosition(ctx.sql, config.name, symbol),
      protectiveState(ctx.sql, config.name, symbol),
    ]);
    let current = state.open;
    if (current) {
      // What the venue says first: the resting order may have traded since it was last looked at.
      current = current.status === 'pending_submit' ? await cancelConfirmed(ctx, current) : current;
      if (current.status !== 'pending_submit') current = (await refreshOrder(ctx, current.id)) ?? current;
      if (isFinalStatus(current.status)) continue;
    }
    const held = position ?? {
      strategy: config.name,
      symbol,
      qty: '0',
      avgPrice: '0',
      realizedPnl: '0',
      openedAt: null,
      updatedAt: new Date(0).toISOString(),
    };
    const plan = await planFor(ctx, config, exits, held, exchange);
    if (plan.kind !== 'order') {
      if (current) {
        await cancelConfirmed(ctx, current);
        return { ...out, action: 'canceled', orderId: current.id, reason: plan.reason };
      }
      return { ...out, action: plan.kind, reason: plan.reason };
    }
    const closing = plan.intent.side;
    if (await closeInFlight(ctx.sql, config.name, symbol, closing)) {
      return { ...out, action: 'waiting', reason: `a ${closing} order or signal of the book is in flight` };
    }
    if (current && restsAsPlanned(current, plan.intent)) {
      return {
        ...out,
        action: 'kept',
        orderId: current.id,
        clientOrderId: current.clientOrderId,
        stopPrice: current.stopPrice,
        takeProfit: takeProfitOf(current),
      };
    }
    if (!current && state.refused && held.openedAt !== null && state.refused.at >= held.openedAt) {
      return state.refused.byPerson
        ? { ...out, action: 'paused', reason: "a person canceled this position's protective order" }
        : { ...out, action: 'refused', reason: "the venue refused this position's protective order" };
    }
    if (current) {
      const after = await cancelConfirmed(ctx, current);
      replaced = true;
      if (!isZero(after.filledQty)) continue;
    }
    const clientOrderId = protectiveClientOrderId(config.name, symbol, state.count);
    const claim = await claimAndSubmit(ctx, {
      intent: { ...plan.intent, clientOrderId, exchange: exchangeName },
      referencePrice: plan.referencePrice,
      position: held.qty,
    });
    if (claim.kind === 'rejected') return { ...out, action: 'error', reason: claim.reason };
    const order = (await finishSubmit(ctx, claim.submit)) ?? claim.order;
    const placed = {
      ...out,
      orderId: order.id,
      clientOrderId,
      stopPrice: order.stopPrice,
      takeProfit: takeProfitOf(order),
    };
    if (claim.submit.outcome === 'failed')
      return { ...placed, action: 'refused', reason: claim.submit.reason };
    if (claim.submit.outcome === 'retry') return { ...placed, action: 'error', reason: claim.submit.reason };
    const action: ProtectAction =
      plan.intent.type === 'market' ? 'closing' : replaced ? 'replaced' : 'placed';
    return { ...placed, action };
  }
  return { ...out, action: 'error', reason: 'the position kept changing while it was protected; next run' };
}

/** A book's failure, logged and reported: the next run (or the sweep) tries again. */
function failed(ctx: PipelineContext, config: StrategyConfig, symbol: string, e: unknown): ProtectResult {
  logOf(ctx).error({ strategy: config.name, symbol, err: errorMessage(e) }, 'protecting the position failed');
  return { strategy: config.name, symbol, action: 'error', reason: errorMessage(e) };
}

/**
 * One book, for a caller that holds its lock already (placing a closing order that did not go out puts
 * the protection back). `known`: the strategy's exits, when the caller has them.
 */
export async function protectHeldBook(
  ctx: PipelineContext,
  config: StrategyConfig,
  symbol: string,
  known?: StrategyExits,
): Promise<ProtectResult> {
  try {
    return await protectBookLocked(ctx, config, known ?? (await strategyExits(config)), symbol);
  } catch (e) {
    return failed(ctx, config, symbol, e);
  }
}

/** One book, under its lock. */
export function protectBook(
  ctx: PipelineContext,
  config: StrategyConfig,
  symbol: string,
  known?: StrategyExits,
): Promise<ProtectResult> {
  return withBookLock(ctx, config.name, symbol, () => protectHeldBook(ctx, config, symbol, known)).catch(
    (e: unknown) => failed(ctx, config, symbol, e),
  );
}

/** One book of a strategy that has something to protect, and whether an order of it rests now. */
export interface OpenBook {
  strategy: string;
  symbol: string;
  resting: boolean;
}

/**
 * The books of `strategies` with an open position or a live protective order (one per strategy and
 * symbol, ordered): what protect-positions looks at, and what a change of a strategy's exits moves.
 */
export async function openBooks(sql: Sql, strategies: readonly string[]): Promise<OpenBook[]> {
  if (strategies.length === 0) return [];
  const names = pgArray(strategies as string[]);
  return sql<OpenBook[]>`
    SELECT strategy, symbol, bool_or(resting) AS resting FROM (
      SELECT strategy, symbol, false AS resting FROM positions
      WHERE strategy = ANY(${names}::text[]) AND qty <> 0
      UNION ALL
      SELECT strategy, symbol, true FROM orders
      WHERE protective AND strategy = ANY(${names}::text[])
        AND status NOT IN ${sql(FINAL_STATUSES as OrderStatus[])}
    ) b
    GROUP BY strategy, symbol
    ORDER BY strategy, symbol`;
}

/**
 * protect-positions: every book in scope with an open position or a live protective order. Strategies
 * that are disabled keep their protection (their positions are still open). Errors are per book.
 */
export async function protectPositions(
  ctx: PipelineContext,
  input: ProtectPositionsInput = {},
): Promise<{ books: ProtectResult[] }> {
  const q = ProtectPositionsInput.parse(input);
  const named = new Set([...(q.strategies ?? []), ...(q.books?.map((b) => b.strategy) ?? [])]);
  const symbols = new Set([...(q.symbols ?? []), ...(q.books?.map((b) => b.symbol) ?? [])]);
  const configs = (await listStrategies(ctx.sql)).filter(
    (s) => (named.size === 0 || named.has(s.name)) && (!q.exchange || exchangeOf(s) === q.exchange),
  );
  const books: ProtectResult[] = [];
  if (configs.length === 0) return { books };
  // One read for every strategy in scope.
  const rows = await openBooks(
    ctx.sql,
    configs.map((c) => c.name),
  );
  for (const config of configs) {
    const mine = rows.filter(
      (r) => r.strategy === config.name && (symbols.size === 0 || symbols.has(r.symbol)),
    );
    if (mine.length === 0) continue;
    let exits: StrategyExits;
    try {
      exits = await strategyExits(config);
    } catch (e) {
      for (const { symbol } of mine)
        books.push({ strategy: config.name, symbol, action: 'error', reason: errorMessage(e) });
      continue;
    }
    // A strategy without exits and nothing resting has nothing to protect: no work per book.
    if (!hasExits(exits) && !mine.some((r) => r.resting)) continue;
    for (const { symbol } of mine) books.push(await protectBook(ctx, config, symbol, exits));
  }
  return { books };
}
