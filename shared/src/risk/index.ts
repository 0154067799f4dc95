/**
 * Server-side risk checks, run by place-order under one lock before an order is claimed. Limits live in
 * the `settings` row 'risk_limits' (validated with RiskLimits); an absent limit is no limit, a malformed
 * setting refuses every opening order (fail closed) with the field named.
 *
 * Orders that only reduce a position (closing, or part of it) pass every check: they lower risk, and the
 * kill switch's flatten and a halted strategy's exits must still be able to run.
 */
import type { Sql } from 'postgres';
import { getSetting, lastLosingTradeAt, pgArray } from '../db/index.ts';
import { abs, add, cmp, fromNumber, mul, neg, sub, sum } from '../money/index.ts';
import { reduces } from '../pipeline/booking.ts';
import { RiskLimits, type Side, TIMEFRAMES, type TradingHalt } from '../schemas/index.ts';

export const RISK_LIMITS_KEY = 'risk_limits';
export const GLOBAL_SCOPE = 'global';
export const strategyScope = (strategy: string): string => `strategy:${strategy}`;

export type RiskCode =
  | 'risk_limits_invalid'
  | 'trading_halted'
  | 'daily_loss_limit'
  | 'cooldown'
  | 'max_open_orders'
  | 'max_order_notional'
  | 'max_position_notional';

export type RiskVerdict = { ok: true } | { ok: false; code: RiskCode; reason: string };

export type LoadedLimits = { ok: true; limits: RiskLimits } | { ok: false; reason: string };

function parseLimits(raw: unknown): LoadedLimits {
  if (raw === null || raw === undefined) return { ok: true, limits: {} };
  const parsed = RiskLimits.safeParse(raw);
  if (parsed.success) return { ok: true, limits: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `risk_limits.${issue.path.join('.')}: ${issue.message}` };
}

/** The limits in force: the settings row, validated. */
export async function loadRiskLimits(sql: Sql): Promise<LoadedLimits> {
  return parseLimits(await getSetting(sql, RISK_LIMITS_KEY));
}

const DAY_MS = 86_400_000;
export const utcDayStart = (now: number): number => Math.floor(now / DAY_MS) * DAY_MS;

/** Per symbol, the newest stored close at or before `at` (epoch ms), any timeframe (the most recent bar wins). */
async function closesAt(
  sql: Sql,
  symbols: readonly string[],
  at: number,
  before = false,
): Promise<Map<string, string>> {
  if (symbols.length === 0) return new Map();
  const cutoff = new Date(at);
  const rows = await sql<{ symbol: string; close: number }[]>`
    SELECT s.symbol, last.close
    FROM unnest(${pgArray(symbols as string[])}::text[]) AS s(symbol)
    CROSS JOIN LATERAL (
      SELECT b.close FROM unnest(${pgArray([...TIMEFRAMES])}::text[]) AS tf(timeframe)
      CROSS JOIN LATERAL (
        SELECT ts, close FROM bars
        WHERE bars.symbol = s.symbol AND bars.timeframe = tf.timeframe
          AND ${before ? sql`ts < ${cutoff}` : sql`ts <= ${cutoff}`}
        ORDER BY ts DESC LIMIT 1
      ) b
      ORDER BY b.ts DESC LIMIT 1
    ) last`;
  return new Map(rows.map((r) => [r.symbol, fromNumber(r.close)]));
}

/**
 * Today's P&L across every book, marked to market since UTC midnight: per symbol, the quantity held at
 * midnight times the move since (midnight's price = the close of the last bar that started before it),
 * plus each trade of today marked from its price to now, less today's fees. Realised and unrealised
 * alike, and only what happened today: a position underwater since yesterday does not halt today.
 */
export async function dayPnl(sql: Sql, now: number): Promise<string> {
  const dayStart = utcDayStart(now);
  const held = await sql<{ symbol: string; qty: string }[]>`
    SELECT symbol, sum(qty) AS qty FROM positions GROUP BY symbol HAVING sum(qty) <> 0`;
  const today = await sql<{ symbol: string; qty: string; cost: string; fees: string }[]>`
    SELECT symbol,
      sum(CASE WHEN side = 'buy' THEN qty ELSE -qty END) AS qty,
      sum(CASE WHEN side = 'buy' THEN qty ELSE -qty END * price) AS cost,
      sum(fee) AS fees
    FROM trades WHERE executed_at >= ${new Date(dayStart)} GROUP BY symbol`;
  const symbols = [...new Set([...held.map((r) => r.symbol), ...today.map((r) => r.symbol)])];
  const nowPrices = await closesAt(sql, symbols, now);
  const startPrices = await closesAt(sql, symbols, dayStart, true);
  const heldBy = new Map(held.map((r) => [r.symbol, r.qty]));
  const todayBy = new Map(today.map((r) => [r.symbol, r]));
  const parts: string[] = [];
  for (const symbol of symbols) {
    const price = nowPrices.get(symbol);
    if (price === undefined) continue;
    const t = todayBy.get(symbol);
    const qtyNow = heldBy.get(symbol) ?? '0';
    const qtyAtStart = sub(qtyNow, t?.qty ?? '0');
    const startPrice = startPrices.get(symbol) ?? price;
    parts.push(mul(qtyAtStart, sub(price, startPrice)));
    if (t) parts.push(sub(sub(mul(t.qty, price), t.cost), t.fees));
  }
  return sum(parts);
}

export interface DailyLossBreach {
  pnl: string;
  limit: string;
  until: string;
}

/** Whether today's loss reached the limit; the halt it calls for lasts until the next UTC midnight. */
export async function dailyLossBreach(
  sql: Sql,
  limits: RiskLimits,
  now: number,
): Promise<DailyLossBreach | null> {
  if (!limits.dailyLossLimit) return null;
  const pnl = await dayPnl(sql, now);
  if (cmp(pnl, neg(limits.dailyLossLimit)) > 0) return null;
  return { pnl, limit: limits.dailyLossLimit, until: new Date(utcDayStart(now) + DAY_MS).toISOString() };
}

export interface OrderRiskInput {
  strategy: string;
  symbol: string;
  side: Side;
  qty: string;
  /** Reference price for notional checks (the signal bar's close, a limit, or the latest close). */
  price: string;
  /** The book's position including its open orders' remaining quantity (signed). */
  position: string;
  now: number;
}

/** What the checks read, in one round trip (place-order holds the risk lock while it reads and claims). */
export interface RiskState {
  limits: LoadedLimits;
  /** Orders not yet final, across every book (place-order's pending claims included). */
  openOrders: number;
  /** Halts in force for the global scope and the order's book. */
  halts: TradingHalt[];
  /** An order already holding the client order id (a redelivery or a restart), if any. */
  existingOrderId: number | null;
}

interface HaltJson {
  id: number;
  scope: string;
  reason: string;
  created_at: string;
  until: string | null;
  cleared_at: string | null;
}

const isoOf = (t: string | null): string | null => (t === null ? null : new Date(t).toISOString());

export async function loadRiskState(
  sql: Sql,
  q: { strategy: string; clientOrderId: string; now: number },
): Promise<RiskState> {
  const [row] = await sql<
    { limits: unknown; open_orders: number; halts: HaltJson[] | null; existing: number | null }[]
  >`
    SELECT
      (SELECT value FROM settings WHERE key = ${RISK_LIMITS_KEY}) AS limits,
      (SELECT count(*)::int FROM orders
        WHERE status NOT IN ('filled', 'canceled', 'expired', 'replaced', 'rejected', 'failed')
          AND NOT protective) AS open_orders,
      (SELECT json_agg(h ORDER BY h.id) FROM trading_halts h
        WHERE h.cleared_at IS NULL AND (h.until IS NULL OR h.until > ${new Date(q.now)})
          AND h.scope IN (${GLOBAL_SCOPE}, ${strategyScope(q.strategy)})) AS halts,
      (SELECT id FROM orders WHERE client_order_id = ${q.clientOrderId}) AS existing`;
  return {
    limits: parseLimits(row.limits),
    openOrders: row.open_orders,
    halts: (row.halts ?? []).map((h) => ({
      id: h.id,
      scope: h.scope,
      reason: h.reason,
      createdAt: new Date(h.created_at).toISOString(),
      until: isoOf(h.until),
      clearedAt: isoOf(h.cleared_at),
    })),
    existingOrderId: row.existing,
  };
}

export interface RiskCheck {
  verdict: RiskVerdict;
  /** Set when this check found the daily loss limit breached: the caller records and publishes the halt. */
  breach: DailyLossBreach | null;
  halts: TradingHalt[];
}

/** Runs every limit against one intended order. Cheap checks first; the P&L query only when needed. */
export async function checkOrderRisk(sql: Sql, state: RiskState, o: OrderRiskInput): Promise<RiskCheck> {
  const signed = o.side === 'buy' ? o.qty : neg(o.qty);
  const pass: RiskCheck = { verdict: { ok: true }, breach: null, halts: [] };
  if (reduces(o.position, signed)) return pass;
  const loaded = state.limits;
  if (!loaded.ok)
    return { ...pass, verdict: { ok: false, code: 'risk_limits_invalid', reason: loaded.reason } };
  const limits = loaded.limits;
  const halts = state.halts;
  if (halts.length > 0) {
    const h = halts[0];
    return {
      verdict: { ok: false, code: 'trading_halted', reason: `trading halted (${h.scope}): ${h.reason}` },
      breach: null,
      halts,
    };
  }
  if (limits.maxOrderNotional) {
    const notional = mul(o.qty, o.price);
    if (cmp(notional, limits.maxOrderNotional) > 0) {
      return fail('max_order_notional', `order notional ${notional} exceeds max ${limits.maxOrderNotional}`);
    }
  }
  if (limits.maxPositionNotional) {
    const after = abs(mul(add(o.position, signed), o.price));
    if (cmp(after, limits.maxPositionNotional) > 0) {
      return fail(
        'max_position_notional',
        `position notional would be ${after}, max ${limits.maxPositionNotional}`,
      );
    }
  }
  if (limits.maxOpenOrders !== undefined && state.openOrders >= limits.maxOpenOrders) {
    return fail('max_open_orders', `${state.openOrders} orders are open, max ${limits.maxOpenOrders}`);
  }
  if (limits.cooldownMinutesAfterLoss) {
    const lastLoss = await lastLosingTradeAt(sql, o.strategy);
    if (lastLoss) {
      const until = Date.parse(lastLoss) + limits.cooldownMinutesAfterLoss * 60_000;
      if (o.now < until) {
        return fail('cooldown', `cool-down after a losing trade until ${new Date(until).toISOString()}`);
      }
    }
  }
  const breach = await dailyLossBreach(sql, limits, o.now);
  if (breach) {
    return {
      verdict: { ok: false, code: 'daily_loss_limit', reason: dailyLossReason(breach) },
      breach,
      halts: [],
    };
  }
  return pass;
}

export const dailyLossReason = (b: DailyLossBreach): string =>
  `daily loss limit: day P&L ${b.pnl} reached -${b.limit}; new orders halted until ${b.until}`;

function fail(code: RiskCode, reason: string): RiskCheck {
  return { verdict: { ok: false, code, reason }, breach: null, halts: [] };
}
