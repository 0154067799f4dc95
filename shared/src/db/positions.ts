import type { Sql } from 'postgres';
import type { Position } from '../schemas/index.ts';
import { iso, isoOrNull } from './rows.ts';
import { sendNow } from './transaction.ts';

interface PositionRow {
  strategy: string;
  symbol: string;
  qty: string;
  avg_price: string;
  realized_pnl: string;
  opened_at: Date | null;
  updated_at: Date;
}

const toPosition = (r: PositionRow): Position => ({
  strategy: r.strategy,
  symbol: r.symbol,
  qty: r.qty,
  avgPrice: r.avg_price,
  realizedPnl: r.realized_pnl,
  openedAt: isoOrNull(r.opened_at),
  updatedAt: iso(r.updated_at),
});

export async function getPosition(sql: Sql, strategy: string, symbol: string): Promise<Position | null> {
  const [row] = await sql<
    PositionRow[]
  >`SELECT * FROM positions WHERE strategy = ${strategy} AND symbol = ${symbol}`;
  return row ? toPosition(row) : null;
}

/** The book's position, created flat if absent, locked for the rest of the transaction. */
export async function lockPosition(tx: Sql, strategy: string, symbol: string): Promise<Position> {
  // One round trip: the insert is sent first, so the locking read after it finds the row.
  const created = sendNow(tx`
    INSERT INTO positions (strategy, symbol) VALUES (${strategy}, ${symbol})
    ON CONFLICT (strategy, symbol) DO NOTHING`);
  const [row] = await tx<PositionRow[]>`
    SELECT * FROM positions WHERE strategy = ${strategy} AND symbol = ${symbol} FOR UPDATE`;
  await created;
  return toPosition(row);
}

export async function savePosition(
  tx: Sql,
  p: {
    strategy: string;
    symbol: string;
    qty: string;
    avgPrice: string;
    realizedPnl: string;
    openedAt: string | null;
  },
): Promise<Position> {
  const [row] = await tx<PositionRow[]>`
    UPDATE positions SET qty = ${p.qty}, avg_price = ${p.avgPrice}, realized_pnl = ${p.realizedPnl},
      opened_at = ${p.openedAt}, updated_at = now()
    WHERE strategy = ${p.strategy} AND symbol = ${p.symbol}
    RETURNING *`;
  return toPosition(row);
}

export async function listPositions(
  sql: Sql,
  f: { strategy?: string; symbol?: string; open?: boolean } = {},
): Promise<Position[]> {
  const rows = await sql<PositionRow[]>`
    SELECT * FROM positions
    WHERE (${f.strategy ?? null}::text IS NULL OR strategy = ${f.strategy ?? null})
      AND (${f.symbol ?? null}::text IS NULL OR symbol = ${f.symbol ?? null})
      AND (${f.open ?? false} = false OR qty <> 0)
    ORDER BY strategy, symbol`;
  return rows.map(toPosition);
}
