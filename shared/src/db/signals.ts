import type { Sql } from 'postgres';
import type { ExitRule, OrderHint, Side, Signal, SignalStatus, Timeframe } from '../schemas/index.ts';
import { iso, pgArray } from './rows.ts';

interface SignalRow {
  id: number;
  strategy: string;
  symbol: string;
  timeframe: string;
  bar_time: Date;
  side: Side;
  price: number;
  reason: string | null;
  exit_rule: ExitRule | null;
  order_hint: OrderHint | null;
  status: SignalStatus;
  status_reason: string | null;
  created_at: Date;
}

const toSignal = (r: SignalRow): Signal => ({
  id: r.id,
  strategy: r.strategy,
  symbol: r.symbol,
  timeframe: r.timeframe as Timeframe,
  barTime: iso(r.bar_time),
  side: r.side,
  price: r.price,
  reason: r.reason,
  exit: r.exit_rule,
  order: r.order_hint,
  status: r.status,
  statusReason: r.status_reason,
  createdAt: iso(r.created_at),
});

export interface NewSignal {
  strategy: string;
  symbol: string;
  timeframe: Timeframe;
  /** Epoch ms of the bar the decision was taken on. */
  barTime: number;
  side: Side;
  price: number;
  reason?: string | null;
  /** An exit of the position (stop-loss, take-profit, trailing stop), not a strategy decision. */
  exit?: ExitRule | null;
  /** The order the strategy asked for; absent or null: a market order. */
  order?: OrderHint | null;
}

/**
 * Inserts signals in one statement; one that exists (same strategy, symbol, timeframe, bar) is left
 * alone. Returns only the rows this call created, so a repeated run announces nothing twice.
 */
export async function insertSignals(sql: Sql, signals: readonly NewSignal[]): Promise<Signal[]> {
  if (signals.length === 0) return [];
  const rows = signals.map((s) => ({
    strategy: s.strategy,
    symbol: s.symbol,
    timeframe: s.timeframe,
    bar_time: new Date(s.barTime),
    side: s.side,
    price: s.price,
    reason: s.reason ?? null,
    exit_rule: s.exit ?? null,
    order_hint: s.order ? sql.json(s.order) : null,
  }));
  const inserted = await sql<SignalRow[]>`
    INSERT INTO signals ${sql(rows, 'strategy', 'symbol', 'timeframe', 'bar_time', 'side', 'price', 'reason', 'exit_rule', 'order_hint')}
    ON CONFLICT (strategy, symbol, timeframe, bar_time) DO NOTHING
    RETURNING *`;
  return inserted.map(toSignal).sort((a, b) => a.id - b.id);
}

export async function getSignal(sql: Sql, id: number): Promise<Signal | null> {
  const [row] = await sql<SignalRow[]>`SELECT * FROM signals WHERE id = ${id}`;
  return row ? toSignal(row) : null;
}

export async function getSignals(sql: Sql, ids: readonly number[]): Promise<Signal[]> {
  if (ids.length === 0) return [];
  const rows = await sql<
    SignalRow[]
  >`SELECT * FROM signals WHERE id = ANY(${pgArray(ids as number[])}::int8[]) ORDER BY id`;
  return rows.map(toSignal);
}

/** Sets a signal's outcome. Only a 'new' signal changes, unless `force` (an order was found for it). */
export async function markSignal(
  sql: Sql,
  id: number,
  status: SignalStatus,
  reason: string | null = null,
  opts: { force?: boolean } = {},
): Promise<boolean> {
  const rows = await sql`
    UPDATE signals SET status = ${status}, status_reason = ${reason}
    WHERE id = ${id} AND (status = 'new' OR ${opts.force ?? false})
    RETURNING id`;
  return rows.length > 0;
}

/** Signals still 'new' with no order: what a lost signals.created message left behind. Oldest first. */
export async function newSignalsWithoutOrders(sql: Sql, limit = 500): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    SELECT s.id FROM signals s
    WHERE s.status = 'new' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.signal_id = s.id)
    ORDER BY s.created_at, s.id
    LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
