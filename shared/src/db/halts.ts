import type { Sql } from 'postgres';
import type { TradingHalt } from '../schemas/index.ts';
import { iso, isoOrNull, pgArray } from './rows.ts';

interface HaltRow {
  id: number;
  scope: string;
  reason: string;
  created_at: Date;
  until: Date | null;
  cleared_at: Date | null;
}

const toHalt = (r: HaltRow): TradingHalt => ({
  id: r.id,
  scope: r.scope,
  reason: r.reason,
  createdAt: iso(r.created_at),
  until: isoOrNull(r.until),
  clearedAt: isoOrNull(r.cleared_at),
});

/** Halts in force at `now` (ISO): not cleared and not expired; optionally only some scopes. */
export async function activeHalts(sql: Sql, now: string, scopes?: readonly string[]): Promise<TradingHalt[]> {
  const rows = await sql<HaltRow[]>`
    SELECT * FROM trading_halts
    WHERE cleared_at IS NULL AND (until IS NULL OR until > ${now})
      AND (${scopes ? sql`scope = ANY(${pgArray(scopes as string[])}::text[])` : sql`TRUE`})
    ORDER BY id`;
  return rows.map(toHalt);
}

/**
 * Records a halt unless one for the same scope is already in force at `now` (then returns that one),
 * so a repeated trigger (the daily loss limit checked on every order) records it once.
 */
export async function recordHalt(
  sql: Sql,
  h: { scope: string; reason: string; until: string | null; now: string },
): Promise<{ halt: TradingHalt; created: boolean }> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`halt:${h.scope}`}, 0))`;
    const [active] = await tx<HaltRow[]>`
      SELECT * FROM trading_halts
      WHERE scope = ${h.scope} AND cleared_at IS NULL AND (until IS NULL OR until > ${h.now})
      ORDER BY id LIMIT 1`;
    if (active) return { halt: toHalt(active), created: false };
    const [row] = await tx<HaltRow[]>`
      INSERT INTO trading_halts (scope, reason, until, created_at) VALUES (${h.scope}, ${h.reason}, ${h.until}, ${h.now})
      RETURNING *`;
    return { halt: toHalt(row), created: true };
  }) as Promise<{ halt: TradingHalt; created: boolean }>;
}

/** Clears the halts of a scope in force at `now`; returns those cleared. */
export async function clearHalts(sql: Sql, scope: string, now: string): Promise<TradingHalt[]> {
  const rows = await sql<HaltRow[]>`
    UPDATE trading_halts SET cleared_at = ${now}
    WHERE scope = ${scope} AND cleared_at IS NULL
    RETURNING *`;
  return rows.map(toHalt);
}

export async function listHalts(sql: Sql, limit = 100): Promise<TradingHalt[]> {
  const rows = await sql<HaltRow[]>`SELECT * FROM trading_halts ORDER BY id DESC LIMIT ${limit}`;
  return rows.map(toHalt);
}
