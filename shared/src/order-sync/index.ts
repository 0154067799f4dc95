/**
 * sync-orders (cron): the exchange is the truth. Each run
 *   1. asks the venue about every open order of ours and books what changed — partial and full fills,
 *      cancels, expiries, rejections — through the pipeline's own sync (one booking path, not two),
 *      publishing orders.updated and trades.recorded;
 *   2. reads the venue's positions and account, books whatever filled up to that reading, and checks
 *      the reading with a second one (venue.ts), so books and venue are compared like with like;
 *   3. compares the venue's positions with the net quantity Weaver booked there, per symbol, and the
 *      venue's cash with the cash Weaver's trades explain (a baseline taken at a quiet moment, 0201);
 *   4. snapshots the venue's account.
 * A difference found by two consecutive runs is recorded in exchange_drift and announced on
 * positions.drift (for cash, the symbol is the account currency); see drift.ts. Weaver's books are not
 * rewritten: which strategy a stray share belongs to is a person's call, so drift is shown, not guessed
 * away.
 */
import type { Sql } from 'postgres';
import { z } from 'zod';
import { insertAccountSnapshot } from '../db/accounts.ts';
import { pgArray } from '../db/rows.ts';
import { defaultExchangeName, getExchange } from '../exchanges/configured.ts';
import type { ExchangeAdapter } from '../exchanges/types.ts';
import { add, sub } from '../money/index.ts';
import { errorMessage, logOf, type PipelineContext, publish } from '../pipeline/context.ts';
import { syncOpenOrders } from '../pipeline/record-trades.ts';
import { Slug } from '../schemas/index.ts';
import { type Difference, type Drift, type Judged, judgeDrift } from './drift.ts';
import { READ_ATTEMPTS, readVenueAndBooks, type VenueView } from './venue.ts';

export type { Difference, Drift, DriftKind } from './drift.ts';
export { READ_ATTEMPTS } from './venue.ts';

export const SyncOrdersInput = z.object({
  /** The venue to sync; default WEAVER_EXCHANGE. */
  exchange: Slug.optional(),
  /** Most open orders looked at per run. */
  limit: z.number().int().positive().max(5_000).default(500),
});
export type SyncOrdersInput = z.input<typeof SyncOrdersInput>;

/** Cash differences smaller than a cent are rounding, not drift. */
export const CASH_TOLERANCE = '0.01';

/**
 * kept: the baseline taken earlier; recorded: taken this run; awaiting_quiet_moment: none yet, because
 * no run has found the venue quiet (no order of ours open, nothing left to book) — cash is not compared.
 */
export type CashBaselineState = 'kept' | 'recorded' | 'awaiting_quiet_moment';

export interface SyncOrdersResult {
  exchange: string;
  orders: { checked: number; changed: number; trades: number; foreignOpen: number };
  /** False when the venue kept filling while it was read: nothing was compared this run. */
  compared: boolean;
  /** Readings of the venue's holdings it took to get two that agree (2 when nothing filled meanwhile). */
  venueReadings: number;
  positions: { symbols: number; drift: Drift[]; unconfirmed: Difference[] };
  cash: {
    currency: string;
    /** What Weaver's trades explain; null while there is no baseline. */
    expected: string | null;
    actual: string;
    baseline: CashBaselineState;
    drift: Drift | null;
    unconfirmed: Difference | null;
  };
  resolved: number;
  /** Why something was not compared, in words. */
  notes: string[];
}

const NOT_SETTLED = `the venue's holdings changed between every two of ${READ_ATTEMPTS + 1} readings: nothing compared this run`;
const AWAITING_BASELINE =
  'cash is not compared until a quiet moment (no order of ours open at the venue, nothing left to book) sets its baseline';

/**
 * Open orders at the venue: how many are not ours (placed by hand, say) and how many are, not counting
 * positions' resting protective orders (which never make a quiet moment impossible).
 */
async function venueOpenOrders(
  sql: Sql,
  adapter: ExchangeAdapter,
): Promise<{ foreign: number; ours: number }> {
  const open = await adapter.getOpenOrders();
  if (open.length === 0) return { foreign: 0, ours: 0 };
  const [row] = await sql<{ n: number; resting: number }[]>`
    SELECT count(*)::int AS n, (count(*) FILTER (WHERE protective))::int AS resting FROM orders
    WHERE client_order_id = ANY(${pgArray(open.map((o) => o.clientOrderId))}::text[])`;
  const ours = row?.n ?? 0;
  return { foreign: open.length - ours, ours: ours - (row?.resting ?? 0) };
}

const withoutRowId = ({ rowId: _, ...d }: Drift & { rowId: number }): Drift => d;

interface Compared {
  positions: Judged;
  cash: Judged | null;
  baseline: CashBaselineState;
  expectedCash: string | null;
}

/** Step 3, in one transaction under the venue's reconciliation lock. */
async function compare(
  ctx: PipelineContext,
  exchange: string,
  view: VenueView,
  quiet: boolean,
): Promise<Compared> {
  const { venue, books } = view;
  return (await ctx.sql.begin(async (txRaw) => {
    const tx = txRaw as unknown as Sql;
    // One comparison per venue at a time (an overrunning cron run and the next one).
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`sync-orders|${exchange}`}, 0))`;
    const values = new Map<string, { expected: string; actual: string }>();
    for (const symbol of new Set([...venue.positions.keys(), ...books.positions.keys()])) {
      values.set(symbol, {
        expected: books.positions.get(symbol) ?? '0',
        actual: venue.positions.get(symbol) ?? '0',
      });
    }
    const positions = await judgeDrift(tx, exchange, 'position', values, '0');

    const { account } = venue;
    const [state] = await tx<{ cash_baseline: string }[]>`
      SELECT cash_baseline FROM exchange_sync_state WHERE exchange = ${exchange} FOR UPDATE`;
    let baseline: CashBaselineState;
    let cashBaseline = state?.cash_baseline;
    if (cashBaseline !== undefined) {
      baseline = 'kept';
      await tx`UPDATE exchange_sync_state SET synced_at = now() WHERE exchange = ${exchange}`;
    } else if (quiet) {
      // Nothing in flight: the venue's cash less what the books explain is what came from elsewhere.
      baseline = 'recorded';
      cashBaseline = sub(account.cash, books.cashFlow);
      await tx`
        INSERT INTO exchange_sync_state (exchange, currency, cash_baseline)
        VALUES (${exchange}, ${account.currency}, ${cashBaseline})`;
    } else {
      baseline = 'awaiting_quiet_moment';
    }
    let cash: Judged | null = null;
    let expectedCash: string | null = null;
    if (cashBaseline !== undefined) {
      expectedCash = add(cashBaseline, books.cashFlow);
      const cashValues = new Map([[account.currency, { expected: expectedCash, actual: account.cash }]]);
      cash = await judgeDrift(tx, exchange, 'cash', cashValues, CASH_TOLERANCE);
    }
    await insertAccountSnapshot(tx, account);
    return { positions, cash, baseline, expectedCash };
  })) as Compared;
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
  let openAtVenue: { foreign: number; ours: number } | null = null;
  try {
    openAtVenue = await venueOpenOrders(ctx.sql, adapter);
  } catch (e) {
    log.warn({ exchange, err: errorMessage(e) }, 'could not list the venue open orders');
  }
  const view = await readVenueAndBooks(ctx, exchange, adapter, parsed.limit);
  const syncs = [synced, ...view.synced];
  const orders = {
    checked: synced.checked,
    changed: syncs.reduce((n, s) => n + s.changed.length, 0),
    trades: syncs.reduce((n, s) => n + s.tradeIds.length, 0),
    foreignOpen: openAtVenue?.foreign ?? 0,
  };
  const { account } = view.venue;

  if (!view.settled) {
    log.info({ exchange, readings: view.readings }, 'venue kept changing while read; compared next run');
    await insertAccountSnapshot(ctx.sql, account);
    const [state] = await ctx.sql`SELECT 1 FROM exchange_sync_state WHERE exchange = ${exchange}`;
    return {
      exchange,
      orders,
      compared: false,
      venueReadings: view.readings,
      positions: { symbols: 0, drift: [], unconfirmed: [] },
      cash: {
        currency: account.currency,
        expected: null,
        actual: account.cash,
        baseline: state ? 'kept' : 'awaiting_quiet_moment',
        drift: null,
        unconfirmed: null,
      },
      resolved: 0,
      notes: [NOT_SETTLED],
    };
  }

  const quiet =
    openAtVenue !== null &&
    openAtVenue.ours === 0 &&
    view.books.openOrders === 0 &&
    view.books.unbookedFills === 0;
  const c = await compare(ctx, exchange, view, quiet);

  const recorded = [...c.positions.drift, ...(c.cash?.drift ?? [])];
  for (const d of recorded.filter((r) => r.state !== 'ongoing')) {
    log.warn(
      { exchange, kind: d.kind, symbol: d.symbol, expected: d.expected, actual: d.actual },
      'drift from the exchange',
    );
    // One event per drift and value: a drift that comes back after being resolved is a new row, announced anew.
    await publish(
      ctx,
      'positions.drift',
      { exchange, symbol: d.symbol, expected: d.expected, actual: d.actual },
      `positions.drift:${exchange}:${d.kind}:${d.symbol}:${d.rowId}:${d.expected}:${d.actual}`.slice(0, 200),
    );
  }
  return {
    exchange,
    orders,
    compared: true,
    venueReadings: view.readings,
    positions: {
      symbols: new Set([...view.venue.positions.keys(), ...view.books.positions.keys()]).size,
      drift: c.positions.drift.map(withoutRowId),
      unconfirmed: c.positions.unconfirmed,
    },
    cash: {
      currency: account.currency,
      expected: c.expectedCash,
      actual: account.cash,
      baseline: c.baseline,
      drift: c.cash?.drift[0] ? withoutRowId(c.cash.drift[0]) : null,
      unconfirmed: c.cash?.unconfirmed[0] ?? null,
    },
    resolved: c.positions.resolved + (c.cash?.resolved ?? 0),
    notes: c.baseline === 'awaiting_quiet_moment' ? [AWAITING_BASELINE] : [],
  };
}
