import type { EquityHistory, EquityQuery, PnlCalendar, PnlQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';

/** The account's equity curve from its snapshots: the last snapshot of each of at most `width` time buckets. */
export async function equityHistory(
  sql: Sql,
  exchange: string,
  q: z.output<typeof EquityQuery>,
  now: number,
): Promise<EquityHistory> {
  const to = q.to ?? new Date(now).toISOString();
  const from =
    q.from ??
    (
      await sql<
        { at: Date | null }[]
      >`SELECT min(at) AS at FROM account_snapshots WHERE exchange = ${exchange}`
    )[0]?.at?.toISOString() ??
    to;
  const bucketMs = Math.max(1, Math.ceil((Date.parse(to) - Date.parse(from)) / q.width));
  const rows = await sql<{ at: Date; equity: string; cash: string }[]>`
    SELECT DISTINCT ON (bucket) at, equity, cash FROM (
      SELECT floor(extract(epoch FROM at) * 1000 / ${bucketMs}) AS bucket, at, id, equity, cash
      FROM account_snapshots
      WHERE exchange = ${exchange} AND at >= ${from}::timestamptz AND at <= ${to}::timestamptz
    ) s
    ORDER BY bucket, at DESC, id DESC`;
  return {
    exchange,
    points: rows.map((r) => ({ time: r.at.toISOString(), equity: r.equity, cash: r.cash })),
  };
}

const DEFAULT_SPAN_DAYS = { day: 92, week: 366, month: 3 * 366 } as const;

/** Realised P&L and fees per UTC day, ISO week (from Monday) or month, from the trades. */
export async function pnlCalendar(sql: Sql, q: z.output<typeof PnlQuery>, now: number): Promise<PnlCalendar> {
  const to = q.to ?? new Date(now).toISOString();
  const from = q.from ?? new Date(Date.parse(to) - DEFAULT_SPAN_DAYS[q.period] * 86_400_000).toISOString();
  const rows = await sql<{ start: string; pnl: string; fees: string; n: number }[]>`
    SELECT to_char(date_trunc(${q.period}, executed_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS start,
           trim_scale(sum(realized_pnl))::text AS pnl, trim_scale(sum(fee))::text AS fees, count(*)::int4 AS n
    FROM trades
    WHERE executed_at >= ${from}::timestamptz AND executed_at <= ${to}::timestamptz
      ${q.strategy ? sql`AND strategy = ${q.strategy}` : sql``}
    GROUP BY 1 ORDER BY 1`;
  return {
    period: q.period,
    buckets: rows.map((r) => ({ start: r.start, realizedPnl: r.pnl, fees: r.fees, trades: r.n })),
  };
}
