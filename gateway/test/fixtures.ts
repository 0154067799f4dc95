import type { Sql } from 'postgres';

/** One filled order with one fill, the parent rows every trade needs. Returns their ids. */
export async function seedOrder(
  sql: Sql,
  o: {
    strategy?: string;
    symbol?: string;
    side?: 'buy' | 'sell';
    status?: string;
    createdAt?: string;
    clientOrderId?: string;
  } = {},
): Promise<{ orderId: number; fillId: number }> {
  const [order] = await sql<{ id: number }[]>`
    INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status, filled_qty, created_at, updated_at)
    VALUES (${o.clientOrderId ?? `c-${Math.random().toString(36).slice(2)}`}, 'sim', ${o.strategy ?? 'alpha'}, ${o.symbol ?? 'ACME'},
            ${o.side ?? 'buy'}, 'market', 'day', 1, ${o.status ?? 'filled'}, 1,
            ${o.createdAt ?? new Date().toISOString()}, ${o.createdAt ?? new Date().toISOString()})
    RETURNING id`;
  const [fill] = await sql<{ id: number }[]>`
    INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, filled_at)
    VALUES (${order.id}, 'f1', ${o.symbol ?? 'ACME'}, ${o.side ?? 'buy'}, 1, 100, now())
    RETURNING id`;
  return { orderId: order.id, fillId: fill.id };
}

export interface TradeSeed {
  strategy?: string;
  symbol?: string;
  side?: 'buy' | 'sell';
  executedAt: string;
  realizedPnl?: string;
  fee?: string;
  qty?: string;
  price?: string;
}

/** Inserts trades in one statement (each with its own order and fill, as record-trade would). Returns their ids. */
export async function seedTrades(sql: Sql, trades: readonly TradeSeed[]): Promise<number[]> {
  if (trades.length === 0) return [];
  const rows = await sql<{ id: number }[]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${trades.map((t) => t.strategy ?? 'alpha')}::text[], ${trades.map((t) => t.symbol ?? 'ACME')}::text[],
        ${trades.map((t) => t.side ?? 'buy')}::text[], ${trades.map((t) => t.executedAt)}::timestamptz[],
        ${trades.map((t) => t.realizedPnl ?? '0')}::numeric[], ${trades.map((t) => t.fee ?? '0')}::numeric[],
        ${trades.map((t) => t.qty ?? '1')}::numeric[], ${trades.map((t) => t.price ?? '100')}::numeric[]
      ) WITH ORDINALITY AS i(strategy, symbol, side, executed_at, realized_pnl, fee, qty, price, n)
    ), o AS (
      INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status, filled_qty)
      SELECT 'seed-' || gen_random_uuid(), 'sim', strategy, symbol, side, 'market', 'day', qty, 'filled', qty FROM input ORDER BY n
      RETURNING id, symbol, side, qty
    ), numbered_o AS (
      SELECT id, row_number() OVER (ORDER BY id) AS n FROM o
    ), f AS (
      INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, filled_at)
      SELECT no.id, 'f', i.symbol, i.side, i.qty, i.price, i.executed_at FROM input i JOIN numbered_o no USING (n)
      RETURNING id, order_id
    )
    INSERT INTO trades (fill_id, order_id, strategy, symbol, side, qty, price, fee, realized_pnl, position_after, executed_at)
    SELECT f.id, f.order_id, i.strategy, i.symbol, i.side, i.qty, i.price, i.fee, i.realized_pnl, i.qty, i.executed_at
    FROM input i JOIN numbered_o no USING (n) JOIN f ON f.order_id = no.id
    ORDER BY i.n
    RETURNING id`;
  return rows.map((r) => r.id);
}

export async function seedSignals(
  sql: Sql,
  signals: readonly {
    strategy?: string;
    symbol?: string;
    barTime: string;
    side?: 'buy' | 'sell';
    status?: string;
  }[],
): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    INSERT INTO signals (strategy, symbol, timeframe, bar_time, side, price, status)
    SELECT * FROM unnest(${signals.map((s) => s.strategy ?? 'alpha')}::text[], ${signals.map((s) => s.symbol ?? 'ACME')}::text[],
      ${signals.map(() => '1Min')}::text[], ${signals.map((s) => s.barTime)}::timestamptz[],
      ${signals.map((s) => s.side ?? 'buy')}::text[], ${signals.map(() => 101.5)}::float8[], ${signals.map((s) => s.status ?? 'new')}::text[])
    RETURNING id`;
  return rows.map((r) => r.id);
}

/** Minute bars of a symbol from `start` (ISO), a gentle deterministic walk. */
export async function seedBars(
  sql: Sql,
  symbol: string,
  start: string,
  count: number,
  timeframe = '1Min',
): Promise<void> {
  await sql`
    INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume)
    SELECT ${symbol}, ${timeframe}, ${start}::timestamptz + (g * interval '1 minute'),
           100 + g * 0.01, 100 + g * 0.01 + 0.5, 100 + g * 0.01 - 0.5, 100 + g * 0.01 + 0.1, 10
    FROM generate_series(0, ${count - 1}) AS g`;
}
