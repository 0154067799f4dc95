import type { Sql } from 'postgres';
import { dec, isNegative, sub } from '../money/index.ts';
import type { Notification } from './message.ts';

export interface DailySummary {
  /** YYYY-MM-DD, a UTC day. */
  date: string;
  trades: number;
  realizedPnl: string;
  ordersSubmitted: number;
  ordersFilled: number;
  ordersRejected: number;
  signals: number;
  functionErrors: number;
  halts: number;
  openPositions: number;
  /** Per exchange: equity at the end of the day and its change over the day (null without a prior snapshot). */
  equity: { exchange: string; equity: string; change: string | null }[];
}

/** Reads one UTC day's activity from the database. */
export async function dailySummary(sql: Sql, date: string): Promise<DailySummary> {
  const from = new Date(`${date}T00:00:00Z`);
  const to = new Date(from.getTime() + 86_400_000);
  const [r] = await sql<Record<string, string | number>[]>`
    SELECT
      (SELECT count(*) FROM trades WHERE executed_at >= ${from} AND executed_at < ${to}) AS trades,
      (SELECT coalesce(sum(realized_pnl), 0) FROM trades WHERE executed_at >= ${from} AND executed_at < ${to})
        AS realized_pnl,
      (SELECT count(*) FROM orders WHERE submitted_at >= ${from} AND submitted_at < ${to}) AS orders_submitted,
      (SELECT count(*) FROM orders WHERE status = 'filled' AND updated_at >= ${from} AND updated_at < ${to})
        AS orders_filled,
      (SELECT count(*) FROM orders WHERE status IN ('rejected', 'failed') AND updated_at >= ${from} AND updated_at < ${to})
        AS orders_rejected,
      (SELECT count(*) FROM signals WHERE created_at >= ${from} AND created_at < ${to}) AS signals,
      (SELECT count(*) FROM function_runs WHERE outcome = 'error' AND started_at >= ${from} AND started_at < ${to})
        AS function_errors,
      (SELECT count(*) FROM trading_halts WHERE created_at >= ${from} AND created_at < ${to}) AS halts,
      (SELECT count(*) FROM positions WHERE qty <> 0) AS open_positions`;
  const equity = await sql<{ exchange: string; end_equity: string; start_equity: string | null }[]>`
    SELECT e.exchange, e.equity AS end_equity, s.equity AS start_equity
    FROM (SELECT DISTINCT ON (exchange) exchange, equity FROM account_snapshots
          WHERE at < ${to} ORDER BY exchange, at DESC) e
    LEFT JOIN (SELECT DISTINCT ON (exchange) exchange, equity FROM account_snapshots
               WHERE at < ${from} ORDER BY exchange, at DESC) s USING (exchange)
    ORDER BY e.exchange`;
  return {
    date,
    trades: Number(r.trades),
    realizedPnl: dec(String(r.realized_pnl)),
    ordersSubmitted: Number(r.orders_submitted),
    ordersFilled: Number(r.orders_filled),
    ordersRejected: Number(r.orders_rejected),
    signals: Number(r.signals),
    functionErrors: Number(r.function_errors),
    halts: Number(r.halts),
    openPositions: Number(r.open_positions),
    equity: equity.map((e) => ({
      exchange: e.exchange,
      equity: e.end_equity,
      change: e.start_equity === null ? null : sub(e.end_equity, e.start_equity),
    })),
  };
}

const signed = (d: string): string => (isNegative(d) || d === '0' ? d : `+${d}`);

export function summaryNotification(s: DailySummary): Notification {
  const lines = [
    `${s.trades} trades, realized P&L ${signed(s.realizedPnl)}.`,
    `Orders: ${s.ordersSubmitted} submitted, ${s.ordersFilled} filled, ${s.ordersRejected} rejected; ${s.signals} signals.`,
  ];
  if (s.halts > 0) lines.push(`Trading was halted ${s.halts} time(s).`);
  if (s.functionErrors > 0) lines.push(`${s.functionErrors} function run(s) failed.`);
  return {
    kind: 'daily_summary',
    severity: s.halts > 0 || s.functionErrors > 0 ? 'warning' : 'info',
    title: `Daily summary ${s.date}`,
    text: lines.join('\n'),
    fields: [
      ...s.equity.map((e) => ({
        name: `Equity (${e.exchange})`,
        value: e.change === null ? e.equity : `${e.equity} (${signed(e.change)})`,
      })),
      { name: 'Open positions', value: String(s.openPositions) },
    ],
    occurredAt: new Date().toISOString(),
  };
}
