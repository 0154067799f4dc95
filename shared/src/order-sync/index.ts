/**
 * sync-orders (cron): the exchange is the truth. Each run
 *   1. asks the venue about every open order of ours and books what changed — partial and full fills,
 *      cancels, expiries, rejections — through the pipeline's own sync (one booking path, not two),
 *      publishing orders.updated and trades.recorded;
 *   2. compares the venue's positions with the net quantity Weaver booked there, per symbol;
 *   3. compares the venue's cash with the cash Weaver's trades there explain (see migration 0201);
 *   4. snapshots the venue's account.
 * A difference is recorded in exchange_drift (one open row per venue, kind and symbol while it lasts;
 * resolved when it is gone) and announced once per distinct value on positions.drift (for cash, the
 * symbol is the account currency). Weaver's books are not rewritten: which strategy a stray share
 * belongs to is a person's call, so drift is shown, not guessed away.
 */
import type { Sql } from 'postgres';
import { z } from 'zod';
import { insertAccountSnapshot } from '../db/accounts.ts';
import { defaultExchangeName, getExchange } from '../exchanges/configured.ts';
import type { ExchangeAdapter } from '../exchanges/types.ts';
import { abs, add, cmp, eq, isZero, sub } from '../money/index.ts';
import { errorMessage, logOf, type PipelineContext, publish } from '../pipeline/context.ts';
import { syncOpenOrders } from '../pipeline/record-trades.ts';
import { Slug } from '../schemas/index.ts';

export const SyncOrdersInput = z.object({
  /** The venue to sync; default WEAVER_EXCHANGE. */
  exchange: Slug.optional(),
  /** Most open orders looked at per run. */
  limit: z.number().int().positive().max(5_000).default(500),
});
export type SyncOrdersInput = z.input<typeof SyncOrdersInput>;

/** Cash differences smaller than a cent are rounding, not drift. */
export const CASH_TOLERANCE = '0.01';

export type DriftKind = 'position' | 'cash';

export interface Drift {
  kind: DriftKind;
  symbol: string;
  expected: string;
  actual: string;
  difference: string;
  /** new: first seen this run; changed: seen before with other values; ongoing: unchanged. */
  state: 'new' | 'changed' | 'ongoing';
}

export interface SyncOrdersResult {
  exchange: string;
  orders: { checked: number; changed: number; trades: number; foreignOpen: number };
  positions: { symbols: number; drift: Drift[] };
  cash: { currency: string; expected: string; actual: string; drift: Drift | null };
  resolved: number;
}

interface DriftRow {
  id: number;
  expected: string;
  actual: string;
}

/** Net quantity Weaver booked at `exchange`, per symbol (buys minus sells over every trade). */
async function bookedPositions(sql: Sql, exchange: string): Promise<Map<string, string>> {
  const rows = await sql<{ symbol: string; qty: string }[]>`
    SELECT t.symbol, sum(CASE WHEN t.side = 'buy' THEN t.qty ELSE -t.qty END) AS qty
    FROM trades t JOIN orders o ON o.id = t.order_id
    WHERE o.exchange = ${exchange}
    GROUP BY t.symbol`;
  return new Map(rows.map((r) => [r.symbol, r.qty]));
}

/** Cash Weaver's trades at `exchange` moved: sells bring qty × price, buys cost it; fees always cost. */
async function bookedCashFlow(sql: Sql, exchange: string): Promise<string> {
  const [row] = await sql<{ flow: string | null }[]>`
    SELECT sum(CASE WHEN t.side = 'sell' THEN t.qty * t.price ELSE -(t.qty * t.price) END - t.fee) AS flow
    FROM trades t JOIN orders o ON o.id = t.order_id
    WHERE o.exchange = ${exchange}`;
  return row?.flow ?? '0';
}

/**
 * Opens, updates or resolves the drift row of one (exchange, kind, symbol). Returns the drift when
 * there is one; `announce` is true when its values are new.
 */
async function noteDrift(
  tx: Sql,
  exchange: string,
  kind: DriftKind,
  symbol: string,
  expected: string,
  actual: string,
  tolerance: string,
): Promise<{ drift: Drift | null; resolved: boolean }> {
  const difference = sub(actual, expected);
  const [open] = await tx<DriftRow[]>`
    SELECT id, expected, actual FROM exchange_drift
    WHERE exchange = ${exchange} AND kind = ${kind} AND symbol = ${symbol} AND resolved_at IS NULL
    FOR UPDATE`;
  if (cmp(abs(difference), tolerance) < 0 || isZero(difference)) {
    if (!open) return { drift: null, resolved: false };
    await tx`UPDATE exchange_drift SET resolved_at = now(), last_seen_at = now() WHERE id = ${open.id}`;
    return { drift: null, resolved: true };
  }
  const drift = { kind, symbol, expected, actual, difference };
  if (open && eq(open.expected, expected) && eq(open.actual, actual)) {
    await tx`UPDATE exchange_drift SET last_seen_at = now() WHERE id = ${open.id}`;
    return { drift: { ...drift, state: 'ongoing' }, resolved: false };
  }
  if (open) {
    await tx`
      UPDATE exchange_drift SET expected = ${expected}, actual = ${actual}, difference = ${difference}, last_seen_at = now()
      WHERE id = ${open.id}`;
    return { drift: { ...drift, state: 'changed' }, resolved: false };
  }
  await tx`
    INSERT INTO exchange_drift (exchange, kind, symbol, expected, actual, difference)
    VALUES (${exchange}, ${kind}, ${symbol}, ${expected}, ${actual}, ${difference})`;
  return { drift: { ...drift, state: 'new' }, resolved: false };
}

async function reconcile(
  ctx: PipelineContext,
  exchange: string,
  adapter: ExchangeAdapter,
): Promise<Pick<SyncOrdersResult, 'positions' | 'cash' | 'resolved'>> {
  // Read the venue first: a slow venue must not hold database locks.
  const [venuePositions, account] = await Promise.all([adapter.getPositions(), adapter.getAccount()]);
  const actual = new Map(venuePositions.map((p) => [p.symbol, p.qty]));
  const result = await ctx.sql.begin(async (txRaw) => {
    const tx = txRaw as unknown as Sql;
    // One reconciliation per venue at a time (an overrunning cron run and the next one).
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`sync-orders|${exchange}`}, 0))`;
    const booked = await bookedPositions(tx, exchange);
    const drifts: Drift[] = [];
    let resolved = 0;
    const openSymbols = await tx<{ symbol: string }[]>`
      SELECT symbol FROM exchange_drift WHERE exchange = ${exchange} AND kind = 'position' AND resolved_at IS NULL`;
    const symbols = new Set([...actual.keys(), ...booked.keys(), ...openSymbols.map((r) => r.symbol)]);
    for (const symbol of [...symbols].sort()) {
      const r = await noteDrift(
        tx,
        exchange,
        'position',
        symbol,
        booked.get(symbol) ?? '0',
        actual.get(symbol) ?? '0',
        '0',
      );
      if (r.drift) drifts.push(r.drift);
      if (r.resolved) resolved++;
    }

    const flow = await bookedCashFlow(tx, exchange);
    const [state] = await tx<{ cash_baseline: string }[]>`
      SELECT cash_baseline FROM exchange_sync_state WHERE exchange = ${exchange} FOR UPDATE`;
    let baseline = state?.cash_baseline;
    if (baseline === undefined) {
      baseline = sub(account.cash, flow);
      await tx`
        INSERT INTO exchange_sync_state (exchange, currency, cash_baseline) VALUES (${exchange}, ${account.currency}, ${baseline})`;
    } else {
      await tx`UPDATE exchange_sync_state SET synced_at = now() WHERE exchange = ${exchange}`;
    }
    const expectedCash = add(baseline, flow);
    const cash = await noteDrift(
      tx,
      exchange,
      'cash',
      account.currency,
      expectedCash,
      account.cash,
      CASH_TOLERANCE,
    );
    if (cash.resolved) resolved++;
    await insertAccountSnapshot(tx, account);
    return {
      positions: { symbols: symbols.size, drift: drifts },
      cash: { currency: account.currency, expected: expectedCash, actual: account.cash, drift: cash.drift },
      resolved,
    };
  });
  return result as Pick<SyncOrdersResult, 'positions' | 'cash' | 'resolved'>;
}

/** Open orders the venue holds that Weaver did not place (placed by hand at the venue, say). */
async function foreignOpenOrders(sql: Sql, adapter: ExchangeAdapter): Promise<number> {
  const open = await adapter.getOpenOrders();
  if (open.length === 0) return 0;
  const ids = open.map((o) => o.clientOrderId);
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM orders WHERE client_order_id = ANY(${sql.array(ids)})`;
  return open.length - (row?.n ?? 0);
}

export async function syncOrders(
  ctx: PipelineContext,
  input: SyncOrdersInput = {},
): Promise<SyncOrdersResult> {
  const parsed = SyncOrdersInput.parse(input);
  const exchange = parsed.exchange ?? defaultExchangeName();
  const adapter = await getExchange(exchange);
  const log = logOf(ctx);

  const synced = await syncOpenOrders(ctx, { exchange, apply: true, limit: parsed.limit });
  let foreignOpen = 0;
  try {
    foreignOpen = await foreignOpenOrders(ctx.sql, adapter);
  } catch (e) {
    log.warn({ exchange, err: errorMessage(e) }, 'could not list the venue open orders');
  }
  const rec = await reconcile(ctx, exchange, adapter);

  const announce = [...rec.positions.drift, ...(rec.cash.drift ? [rec.cash.drift] : [])].filter(
    (d) => d.state !== 'ongoing',
  );
  for (const d of announce) {
    log.warn(
      { exchange, kind: d.kind, symbol: d.symbol, expected: d.expected, actual: d.actual },
      'drift from the exchange',
    );
    await publish(
      ctx,
      'positions.drift',
      { exchange, symbol: d.symbol, expected: d.expected, actual: d.actual },
      `positions.drift:${exchange}:${d.kind}:${d.symbol}:${d.expected}:${d.actual}`,
    );
  }
  return {
    exchange,
    orders: {
      checked: synced.checked,
      changed: synced.changed.length,
      trades: synced.tradeIds.length,
      foreignOpen,
    },
    ...rec,
  };
}
