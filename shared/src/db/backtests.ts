/**
 * Backtest results and sweeps: `backtests` (config, status, metrics), `backtest_trades`,
 * `backtest_series` (curves as arrays, read whole for charts) and `backtest_sweeps`. Lists are keyset
 * paginated, newest first. A result is written in one transaction: a reader never sees half of one.
 */
import type { Sql } from 'postgres';
import type {
  BacktestConfig,
  BacktestDetail,
  BacktestMetrics,
  BacktestRole,
  BacktestSeries,
  BacktestStatus,
  BacktestSummary,
  BacktestTrade,
  SweepDetail,
  SweepObjective,
  SweepRequest,
  SweepSummary,
  WalkForwardFold,
} from '../schemas/index.ts';
import { keyset, type Page, pageSize, toPage } from './keyset.ts';
import { iso, isoOrNull } from './rows.ts';

interface BacktestRow {
  id: number;
  sweep_id: number | null;
  name: string | null;
  status: BacktestStatus;
  role: BacktestRole;
  config: BacktestConfig;
  metrics: BacktestMetrics | null;
  error: string | null;
  progress: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const toSummary = (r: BacktestRow): BacktestSummary => ({
  id: r.id,
  name: r.name,
  strategy: r.config.strategy,
  params: r.config.params ?? {},
  symbols: r.config.symbols,
  timeframe: r.config.timeframe,
  status: r.status,
  progress: r.progress,
  role: r.role,
  sweepId: r.sweep_id,
  totalReturn: r.metrics?.totalReturn ?? null,
  sharpe: r.metrics?.sharpe ?? null,
  maxDrawdown: r.metrics?.maxDrawdown ?? null,
  trades: r.metrics?.trades ?? null,
  endEquity: r.metrics?.endEquity ?? null,
  error: r.error,
  createdAt: iso(r.created_at),
  startedAt: isoOrNull(r.started_at),
  finishedAt: isoOrNull(r.finished_at),
});

const toDetail = (r: BacktestRow): BacktestDetail => ({
  ...toSummary(r),
  config: r.config,
  metrics: r.metrics,
});

export interface NewBacktest {
  config: BacktestConfig;
  name?: string | null;
  sweepId?: number | null;
  role?: BacktestRole;
  status?: 'queued' | 'running';
}

/** Creates a backtest row (queued, or running with started_at set); returns its id. */
export async function insertBacktest(sql: Sql, b: NewBacktest): Promise<number> {
  const status = b.status ?? 'queued';
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO backtests (sweep_id, name, status, role, config, started_at)
    VALUES (${b.sweepId ?? null}, ${b.name ?? b.config.name ?? null}, ${status}, ${b.role ?? 'single'},
            ${sql.json(b.config as never)}, ${status === 'running' ? sql`now()` : null})
    RETURNING id`;
  return row.id;
}

/** Many queued rows in one statement (a sweep's runs); ids in input order. */
export async function insertBacktests(sql: Sql, list: readonly NewBacktest[]): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < list.length; i += 1000) {
    const rows = list.slice(i, i + 1000).map((b) => ({
      sweep_id: b.sweepId ?? null,
      name: b.name ?? b.config.name ?? null,
      status: 'queued',
      role: b.role ?? 'single',
      config: b.config,
    }));
    const out = await sql<{ id: number }[]>`
      INSERT INTO backtests ${sql(rows as never, 'sweep_id', 'name', 'status', 'role', 'config')}
      RETURNING id`;
    ids.push(...out.map((r) => r.id));
  }
  return ids;
}

/**
 * Claims a queued backtest for running: the one caller that moves it from queued to running gets its
 * config; a repeated or late delivery gets null (OpenFaaS's queue delivers at least once).
 */
export async function claimBacktest(sql: Sql, id: number): Promise<BacktestConfig | null> {
  const [row] = await sql<{ config: BacktestConfig }[]>`
    UPDATE backtests SET status = 'running', started_at = now()
    WHERE id = ${id} AND status = 'queued'
    RETURNING config`;
  return row?.config ?? null;
}

export async function setBacktestProgress(sql: Sql, id: number, progress: number): Promise<void> {
  await sql`UPDATE backtests SET progress = ${Math.max(0, Math.min(1, progress))} WHERE id = ${id}`;
}

export interface StoredResult {
  metrics: BacktestMetrics;
  trades: readonly BacktestTrade[];
  series: BacktestSeries;
}

/** Writes a finished result in one transaction: metrics and status, trades, curves. */
export async function completeBacktest(sql: Sql, id: number, result: StoredResult): Promise<void> {
  await sql.begin(async (tx) => {
    const t = tx as unknown as Sql;
    await t`DELETE FROM backtest_trades WHERE backtest_id = ${id}`;
    await t`DELETE FROM backtest_series WHERE backtest_id = ${id}`;
    // 13 columns per row: 2,000 rows stay well below the 65,535 parameters of one statement.
    for (let i = 0; i < result.trades.length; i += 2000) {
      const rows = result.trades.slice(i, i + 2000).map((tr) => ({
        backtest_id: id,
        seq: tr.seq,
        symbol: tr.symbol,
        side: tr.side,
        qty: tr.qty,
        entry_time: tr.entryTime,
        entry_price: tr.entryPrice,
        exit_time: tr.exitTime,
        exit_price: tr.exitPrice,
        pnl: tr.pnl,
        fees: tr.fees,
        net_pnl: tr.netPnl,
        return_pct: tr.returnPct,
        exit_reason: tr.exitReason,
        bars: tr.bars,
      }));
      await t`INSERT INTO backtest_trades ${t(rows as never)}`;
    }
    const s = result.series;
    await t`
      INSERT INTO backtest_series (backtest_id, times, equity, drawdown, benchmark, returns, sampled)
      VALUES (${id}, ${`{${s.times.join(',')}}`}::bigint[], ${`{${s.equity.join(',')}}`}::float8[],
              ${`{${s.drawdown.join(',')}}`}::float8[], ${`{${s.benchmark.join(',')}}`}::float8[],
              ${t.json(s.returns as never)}, ${s.sampled})`;
    await t`
      UPDATE backtests SET status = 'completed', metrics = ${t.json(result.metrics as never)}, progress = 1,
        error = NULL, finished_at = now(), started_at = coalesce(started_at, now())
      WHERE id = ${id}`;
  });
}

export async function failBacktest(sql: Sql, id: number, error: string): Promise<void> {
  await sql`
    UPDATE backtests SET status = 'failed', error = ${error.slice(0, 2000)}, finished_at = now(),
      started_at = coalesce(started_at, now())
    WHERE id = ${id}`;
}

const COLUMNS =
  'id, sweep_id, name, status, role, config, metrics, error, progress, created_at, started_at, finished_at';

export async function getBacktest(sql: Sql, id: number): Promise<BacktestDetail | null> {
  const [row] = await sql<BacktestRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM backtests WHERE id = ${id}`;
  return row ? toDetail(row) : null;
}

export interface BacktestFilter {
  cursor?: string | null;
  limit?: number;
  sweepId?: number;
  strategy?: string;
  status?: BacktestStatus;
  role?: BacktestRole;
}

/** Newest first, keyset paginated on (created_at, id). */
export async function listBacktests(sql: Sql, f: BacktestFilter = {}): Promise<Page<BacktestSummary>> {
  const size = pageSize(f.limit);
  const k = keyset(sql, 'created_at');
  const rows = await sql<(BacktestRow & { keyset_us: number })[]>`
    SELECT ${sql.unsafe(COLUMNS)}, ${k.select} FROM backtests
    WHERE ${k.before(f.cursor)}
      ${f.sweepId !== undefined ? sql`AND sweep_id = ${f.sweepId}` : sql``}
      ${f.strategy !== undefined ? sql`AND strategy = ${f.strategy}` : sql``}
      ${f.status !== undefined ? sql`AND status = ${f.status}` : sql``}
      ${f.role !== undefined ? sql`AND role = ${f.role}` : sql``}
    ORDER BY ${k.order}
    LIMIT ${size + 1}`;
  return toPage(rows, size, toSummary);
}

interface TradeRow {
  seq: number;
  symbol: string;
  side: 'long' | 'short';
  qty: number;
  entry_time: Date;
  entry_price: number;
  exit_time: Date | null;
  exit_price: number | null;
  pnl: number;
  fees: number;
  net_pnl: number | null;
  return_pct: number | null;
  exit_reason: BacktestTrade['exitReason'];
  bars: number;
}

/** A backtest's trades in order, keyset paginated on seq. */
export async function getBacktestTrades(
  sql: Sql,
  id: number,
  opts: { afterSeq?: number; limit?: number } = {},
): Promise<{ items: BacktestTrade[]; nextSeq: number | null }> {
  const size = Math.max(1, Math.min(5000, Math.floor(opts.limit ?? 500)));
  const rows = await sql<TradeRow[]>`
    SELECT seq, symbol, side, qty, entry_time, entry_price, exit_time, exit_price, pnl, fees, net_pnl,
           return_pct, exit_reason, bars
    FROM backtest_trades WHERE backtest_id = ${id} AND seq > ${opts.afterSeq ?? 0}
    ORDER BY seq LIMIT ${size + 1}`;
  const items = rows.slice(0, size).map(
    (r): BacktestTrade => ({
      seq: r.seq,
      symbol: r.symbol,
      side: r.side,
      qty: r.qty,
      entryTime: iso(r.entry_time),
      entryPrice: r.entry_price,
      exitTime: isoOrNull(r.exit_time),
      exitPrice: r.exit_price,
      pnl: r.pnl,
      fees: r.fees,
      netPnl: r.net_pnl ?? r.pnl - r.fees,
      returnPct: r.return_pct ?? 0,
      exitReason: r.exit_reason,
      bars: r.bars,
    }),
  );
  return { items, nextSeq: rows.length > size ? items[items.length - 1].seq : null };
}

export async function getBacktestSeries(sql: Sql, id: number): Promise<BacktestSeries | null> {
  const [row] = await sql<
    {
      times: number[];
      equity: number[];
      drawdown: number[];
      benchmark: number[];
      returns: BacktestSeries['returns'];
      sampled: boolean;
    }[]
  >`SELECT times::float8[] AS times, equity, drawdown, benchmark, returns, sampled
    FROM backtest_series WHERE backtest_id = ${id}`;
  return row ?? null;
}

/** Several backtests side by side (in the order asked; unknown ids are left out). */
export async function compareBacktests(sql: Sql, ids: readonly number[]): Promise<BacktestDetail[]> {
  if (ids.length === 0) return [];
  const rows = await sql<BacktestRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM backtests WHERE id = ANY(${ids as number[]}::bigint[])`;
  const byId = new Map(rows.map((r) => [r.id, toDetail(r)]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id) as BacktestDetail] : []));
}

/** Deletes a backtest with its trades and curves; false when there was none. */
export async function deleteBacktest(sql: Sql, id: number): Promise<boolean> {
  const r = await sql`DELETE FROM backtests WHERE id = ${id}`;
  return r.count > 0;
}

// ---------------------------------------------------------------------------------------------- sweeps

interface SweepRow {
  id: number;
  name: string | null;
  status: SweepSummary['status'];
  request: SweepRequest;
  objective: SweepObjective;
  total: number;
  done: number;
  failed: number;
  best_backtest_id: number | null;
  folds: WalkForwardFold[];
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const toSweep = (r: SweepRow): SweepDetail => ({
  id: r.id,
  name: r.name,
  status: r.status,
  total: r.total,
  done: r.done,
  failed: r.failed,
  objective: r.objective,
  bestBacktestId: r.best_backtest_id,
  folds: r.folds,
  error: r.error,
  createdAt: iso(r.created_at),
  startedAt: isoOrNull(r.started_at),
  finishedAt: isoOrNull(r.finished_at),
  request: r.request,
});

export async function insertSweep(sql: Sql, request: SweepRequest): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO backtest_sweeps (name, request, objective, status, started_at)
    VALUES (${request.name ?? null}, ${sql.json(request as never)}, ${request.objective}, 'running', now())
    RETURNING id`;
  return row.id;
}

export async function setSweepTotal(sql: Sql, id: number, total: number): Promise<void> {
  await sql`UPDATE backtest_sweeps SET total = ${total} WHERE id = ${id}`;
}

/** Counts the sweep's finished runs from its backtests (the truth), and stores them. */
export async function refreshSweepProgress(
  sql: Sql,
  id: number,
): Promise<{ total: number; done: number; failed: number }> {
  const [row] = await sql<{ total: number; done: number; failed: number }[]>`
    UPDATE backtest_sweeps s SET
      done = c.done, failed = c.failed
    FROM (SELECT count(*) FILTER (WHERE status IN ('completed', 'failed'))::int AS done,
                 count(*) FILTER (WHERE status = 'failed')::int AS failed
          FROM backtests WHERE sweep_id = ${id}) c
    WHERE s.id = ${id}
    RETURNING s.total, s.done, s.failed`;
  return row ?? { total: 0, done: 0, failed: 0 };
}

export async function finishSweep(
  sql: Sql,
  id: number,
  outcome: {
    status: 'completed' | 'failed';
    bestBacktestId: number | null;
    folds: WalkForwardFold[];
    error?: string | null;
  },
): Promise<void> {
  await sql`
    UPDATE backtest_sweeps SET status = ${outcome.status}, best_backtest_id = ${outcome.bestBacktestId},
      folds = ${sql.json(outcome.folds as never)}, error = ${outcome.error ?? null}, finished_at = now()
    WHERE id = ${id}`;
}

export async function getSweep(sql: Sql, id: number): Promise<SweepDetail | null> {
  const [row] = await sql<SweepRow[]>`SELECT * FROM backtest_sweeps WHERE id = ${id}`;
  return row ? toSweep(row) : null;
}

export async function listSweeps(
  sql: Sql,
  f: { cursor?: string | null; limit?: number } = {},
): Promise<Page<SweepSummary>> {
  const size = pageSize(f.limit);
  const k = keyset(sql, 'created_at');
  const rows = await sql<(SweepRow & { keyset_us: number })[]>`
    SELECT *, ${k.select} FROM backtest_sweeps WHERE ${k.before(f.cursor)} ORDER BY ${k.order} LIMIT ${size + 1}`;
  return toPage(rows, size, (r) => {
    const { request: _request, ...summary } = toSweep(r);
    return summary;
  });
}

/** Deletes a sweep and every backtest it ran. */
export async function deleteSweep(sql: Sql, id: number): Promise<boolean> {
  const r = await sql`DELETE FROM backtest_sweeps WHERE id = ${id}`;
  return r.count > 0;
}
