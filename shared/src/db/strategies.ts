import type { Sql } from 'postgres';
import type { Exits, Sizing, StrategyConfig, Timeframe } from '../schemas/index.ts';
import { iso, pgArray } from './rows.ts';

interface StrategyRow {
  id: number;
  name: string;
  module: string;
  description: string;
  params: Record<string, unknown>;
  enabled: boolean;
  symbols: string[];
  timeframe: string;
  exchange: string | null;
  sizing: unknown;
  exits: unknown;
  allow_short: boolean;
  created_at: Date;
  updated_at: Date;
}

/**
 * A row as stored. `sizing` and `exits` are passed through as written: callers that act on them
 * (place-order) validate them with their schemas, so one bad row never hides the others from a list.
 */
function toStrategy(r: StrategyRow): StrategyConfig {
  return {
    id: r.id,
    name: r.name,
    module: r.module,
    description: r.description,
    params: r.params ?? {},
    enabled: r.enabled,
    symbols: r.symbols,
    timeframe: r.timeframe as Timeframe,
    exchange: r.exchange,
    sizing: r.sizing as Sizing,
    exits: (r.exits ?? {}) as Exits,
    allowShort: r.allow_short,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Fields to create or replace a strategy instance (StrategyConfigInput, parsed). */
export interface StrategyWrite {
  name: string;
  module: string;
  description?: string;
  params: Record<string, unknown>;
  enabled: boolean;
  symbols: string[];
  timeframe: Timeframe;
  exchange: string | null;
  sizing: Sizing;
  exits?: Exits;
  allowShort?: boolean;
}

export async function listStrategies(
  sql: Sql,
  filter: { enabled?: boolean } = {},
): Promise<StrategyConfig[]> {
  const rows = await sql<StrategyRow[]>`
    SELECT * FROM strategies
    WHERE (${filter.enabled ?? null}::boolean IS NULL OR enabled = ${filter.enabled ?? null})
    ORDER BY name`;
  return rows.map(toStrategy);
}

export async function getStrategy(sql: Sql, name: string): Promise<StrategyConfig | null> {
  const [row] = await sql<StrategyRow[]>`SELECT * FROM strategies WHERE name = ${name}`;
  return row ? toStrategy(row) : null;
}

export async function getStrategiesByName(sql: Sql, names: readonly string[]): Promise<StrategyConfig[]> {
  if (names.length === 0) return [];
  const rows = await sql<StrategyRow[]>`
    SELECT * FROM strategies WHERE name = ANY(${pgArray(names as string[])}::text[]) ORDER BY name`;
  return rows.map(toStrategy);
}

export async function getStrategyById(sql: Sql, id: number): Promise<StrategyConfig | null> {
  const [row] = await sql<StrategyRow[]>`SELECT * FROM strategies WHERE id = ${id}`;
  return row ? toStrategy(row) : null;
}

function values(sql: Sql, s: StrategyWrite) {
  return {
    name: s.name,
    module: s.module,
    description: s.description ?? '',
    params: sql.json(s.params as never),
    enabled: s.enabled,
    symbols: pgArray(s.symbols),
    timeframe: s.timeframe,
    exchange: s.exchange,
    sizing: sql.json(s.sizing as never),
    exits: sql.json((s.exits ?? {}) as never),
    allow_short: s.allowShort ?? false,
  };
}

/** Creates the instance, or replaces every field of the one with the same name. */
export async function upsertStrategy(sql: Sql, s: StrategyWrite): Promise<StrategyConfig> {
  const v = values(sql, s);
  const [row] = await sql<StrategyRow[]>`
    INSERT INTO strategies (name, module, description, params, enabled, symbols, timeframe, exchange, sizing, exits, allow_short)
    VALUES (${v.name}, ${v.module}, ${v.description}, ${v.params}, ${v.enabled}, ${v.symbols}::text[], ${v.timeframe},
            ${v.exchange}, ${v.sizing}, ${v.exits}, ${v.allow_short})
    ON CONFLICT (name) DO UPDATE SET
      module = EXCLUDED.module, description = EXCLUDED.description, params = EXCLUDED.params,
      enabled = EXCLUDED.enabled, symbols = EXCLUDED.symbols, timeframe = EXCLUDED.timeframe,
      exchange = EXCLUDED.exchange, sizing = EXCLUDED.sizing, exits = EXCLUDED.exits,
      allow_short = EXCLUDED.allow_short, updated_at = now()
    RETURNING *`;
  return toStrategy(row);
}

/** Creates the instance unless one with the name exists (which is left as the user last saved it). */
export async function createStrategyIfMissing(
  sql: Sql,
  s: StrategyWrite,
): Promise<{ strategy: StrategyConfig; created: boolean }> {
  const v = values(sql, s);
  const [row] = await sql<StrategyRow[]>`
    INSERT INTO strategies (name, module, description, params, enabled, symbols, timeframe, exchange, sizing, exits, allow_short)
    VALUES (${v.name}, ${v.module}, ${v.description}, ${v.params}, ${v.enabled}, ${v.symbols}::text[], ${v.timeframe},
            ${v.exchange}, ${v.sizing}, ${v.exits}, ${v.allow_short})
    ON CONFLICT (name) DO NOTHING
    RETURNING *`;
  if (row) return { strategy: toStrategy(row), created: true };
  const existing = await getStrategy(sql, s.name);
  if (!existing) throw new Error(`strategy ${s.name} vanished while being created`);
  return { strategy: existing, created: false };
}

export async function setStrategyEnabled(
  sql: Sql,
  name: string,
  enabled: boolean,
): Promise<StrategyConfig | null> {
  const [row] = await sql<StrategyRow[]>`
    UPDATE strategies SET enabled = ${enabled}, updated_at = now() WHERE name = ${name} RETURNING *`;
  return row ? toStrategy(row) : null;
}

export async function deleteStrategy(sql: Sql, name: string): Promise<boolean> {
  const rows = await sql`DELETE FROM strategies WHERE name = ${name} RETURNING id`;
  return rows.length > 0;
}

/** Where generate-signals stopped for each symbol of a strategy: epoch ms of the last evaluated bar. */
export async function getCursors(sql: Sql, strategyId: number): Promise<Map<string, number>> {
  const rows = await sql<{ symbol: string; t: number }[]>`
    SELECT symbol, (extract(epoch FROM last_bar_time) * 1000)::float8 AS t
    FROM strategy_cursors WHERE strategy_id = ${strategyId}`;
  return new Map(rows.map((r) => [r.symbol, r.t]));
}

/** Moves a cursor forward (never back: a late, slower run cannot undo a newer one). */
export async function advanceCursor(
  sql: Sql,
  strategyId: number,
  symbol: string,
  lastBarTime: number,
): Promise<void> {
  await sql`
    INSERT INTO strategy_cursors (strategy_id, symbol, last_bar_time)
    VALUES (${strategyId}, ${symbol}, ${new Date(lastBarTime)})
    ON CONFLICT (strategy_id, symbol) DO UPDATE
      SET last_bar_time = GREATEST(strategy_cursors.last_bar_time, EXCLUDED.last_bar_time)`;
}
