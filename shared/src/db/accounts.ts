import type { Sql } from 'postgres';
import type { Account } from '../schemas/index.ts';
import { keyset, type Page, pageSize, toPage } from './keyset.ts';
import { iso } from './rows.ts';

interface SnapshotRow {
  id: number;
  exchange: string;
  account_id: string | null;
  currency: string;
  cash: string;
  equity: string;
  buying_power: string;
  day_pnl: string | null;
  at: Date;
}

export type AccountSnapshot = Account & { id: number };

const toSnapshot = (r: SnapshotRow): AccountSnapshot => ({
  id: r.id,
  exchange: r.exchange,
  accountId: r.account_id,
  currency: r.currency,
  cash: r.cash,
  equity: r.equity,
  buyingPower: r.buying_power,
  dayPnl: r.day_pnl,
  at: iso(r.at),
});

export async function insertAccountSnapshot(sql: Sql, a: Account): Promise<AccountSnapshot> {
  const [row] = await sql<SnapshotRow[]>`
    INSERT INTO account_snapshots (exchange, account_id, currency, cash, equity, buying_power, day_pnl, at)
    VALUES (${a.exchange}, ${a.accountId}, ${a.currency}, ${a.cash}, ${a.equity}, ${a.buyingPower}, ${a.dayPnl}, ${a.at})
    RETURNING *`;
  return toSnapshot(row);
}

export async function latestAccountSnapshot(sql: Sql, exchange: string): Promise<AccountSnapshot | null> {
  const [row] = await sql<SnapshotRow[]>`
    SELECT * FROM account_snapshots WHERE exchange = ${exchange} ORDER BY at DESC, id DESC LIMIT 1`;
  return row ? toSnapshot(row) : null;
}

/** Newest first, keyset-paginated on (at, id): the equity curve of the live account. */
export async function listAccountSnapshots(
  sql: Sql,
  f: { exchange?: string; since?: string; cursor?: string | null; limit?: number } = {},
): Promise<Page<AccountSnapshot>> {
  const size = pageSize(f.limit);
  const k = keyset(sql, 'at');
  const rows = await sql<(SnapshotRow & { keyset_us: number })[]>`
    SELECT *, ${k.select} FROM account_snapshots
    WHERE ${k.before(f.cursor)}
      AND (${f.exchange ?? null}::text IS NULL OR exchange = ${f.exchange ?? null})
      AND (${f.since ?? null}::timestamptz IS NULL OR at >= ${f.since ?? null})
    ORDER BY ${k.order}
    LIMIT ${size + 1}`;
  return toPage(rows, size, toSnapshot);
}
