/**
 * Backtests as a service: validate, load the bars, run, store, announce. What run-backtest, the CLI
 * and the gateway call. I/O lives here and in data.ts; the engine and metrics stay pure.
 */
import type { Sql } from 'postgres';
import type { Bus } from '../bus/index.ts';
import { emit } from '../bus/index.ts';
import {
  claimBacktest,
  completeBacktest,
  failBacktest,
  getBacktest,
  insertBacktest,
} from '../db/backtests.ts';
import { type Logger, logger } from '../log/index.ts';
import { HttpError, invalidInput } from '../runtime/errors.ts';
import { BacktestConfig, type BacktestRole, type RunBacktestResult } from '../schemas/index.ts';
import {
  type PreparedStrategy,
  prepareStrategy,
  StrategyLoadError,
  StrategyParamsError,
} from '../strategies/index.ts';
import { loadBacktestData } from './data.ts';
import { type BacktestOutcome, runBacktest } from './run.ts';

export interface BacktestContext {
  sql: Sql;
  /** Where backtests.* events go; none = not announced (tools, tests). */
  bus?: () => Promise<Bus>;
  correlationId?: string;
  log?: Logger;
}

/** A strategy problem as the 400 a caller can act on: the field is `strategy` or `params.<name>`. */
export function strategyProblem(err: unknown, prefix = ''): HttpError | null {
  if (err instanceof StrategyParamsError) {
    const fields = Object.fromEntries(Object.entries(err.fields).map(([k, v]) => [`${prefix}${k}`, v]));
    return new HttpError(400, 'invalid_params', err.message, fields);
  }
  if (err instanceof StrategyLoadError) {
    const unknown = err.reason.startsWith('no such strategy');
    return new HttpError(400, unknown ? 'unknown_strategy' : 'strategy_unavailable', err.message, {
      [`${prefix}strategy`]: unknown ? `unknown strategy "${err.strategy}"` : err.reason,
    });
  }
  return null;
}

/** Validates a config and its strategy; throws the 400 naming the field. */
export async function prepareBacktest(
  input: unknown,
): Promise<{ config: BacktestConfig; prepared: PreparedStrategy }> {
  const parsed = BacktestConfig.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error);
  try {
    return { config: parsed.data, prepared: await prepareStrategy(parsed.data.strategy, parsed.data.params) };
  } catch (err) {
    throw strategyProblem(err) ?? err;
  }
}

/** Loads the config's bars (with warm-up) and runs it. Pure apart from the read. */
export async function simulate(
  sql: Sql,
  config: BacktestConfig,
  prepared: PreparedStrategy,
  detail: 'full' | 'summary' = 'full',
): Promise<BacktestOutcome> {
  const series = await loadBacktestData(sql, {
    symbols: config.symbols,
    timeframe: config.timeframe,
    from: config.from,
    to: config.to,
    warmup: prepared.warmup,
  });
  return runBacktest(series, prepared, { ...config, params: prepared.params } as BacktestConfig, { detail });
}

async function announce(
  ctx: BacktestContext,
  id: number,
  status: 'completed' | 'failed',
  sweepId: number | null,
): Promise<void> {
  if (!ctx.bus) return;
  await emit(
    ctx.sql,
    await ctx.bus(),
    'backtests.completed',
    sweepId ? { backtestId: id, status, sweepId } : { backtestId: id, status },
    { correlationId: ctx.correlationId ?? `backtest-${id}`, id: `backtests.completed:${id}` },
  );
}

async function execute(
  ctx: BacktestContext,
  id: number,
  config: BacktestConfig,
  prepared: PreparedStrategy,
  detail: 'full' | 'summary',
  sweepId: number | null,
): Promise<BacktestOutcome> {
  const log = ctx.log ?? logger();
  try {
    const outcome = await simulate(ctx.sql, config, prepared, detail);
    await completeBacktest(ctx.sql, id, outcome);
    for (const f of outcome.faults)
      log.warn({ backtestId: id, ...f }, 'strategy disabled during the backtest');
    await announce(ctx, id, 'completed', sweepId);
    return outcome;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await failBacktest(ctx.sql, id, message);
    await announce(ctx, id, 'failed', sweepId);
    throw err;
  }
}

async function answer(sql: Sql, id: number): Promise<RunBacktestResult> {
  const stored = await getBacktest(sql, id);
  if (!stored) throw new HttpError(404, 'not_found', `backtest ${id} not found`, { backtestId: 'not found' });
  const { config: _config, metrics, ...summary } = stored;
  return { id, status: stored.status, summary, metrics };
}

export interface StoredBacktest extends RunBacktestResult {
  outcome: BacktestOutcome;
}

/**
 * Validates, stores a running row, simulates, stores the result and announces it. Input problems are
 * 400s (unknown strategy, bad params naming the field) or a 422 (no bars in the range), raised before
 * anything is written; a failure after that marks the row failed.
 */
export async function runStoredBacktest(
  ctx: BacktestContext,
  input: unknown,
  opts: { role?: BacktestRole } = {},
): Promise<StoredBacktest> {
  const { config, prepared } = await prepareBacktest(input);
  // An empty range is an input error: check before a row exists.
  await loadBacktestData(ctx.sql, {
    symbols: config.symbols,
    timeframe: config.timeframe,
    from: config.from,
    to: config.to,
    warmup: 0,
  });
  const id = await insertBacktest(ctx.sql, { config, role: opts.role ?? 'single', status: 'running' });
  const outcome = await execute(ctx, id, config, prepared, 'full', null);
  return { ...(await answer(ctx.sql, id)), outcome };
}

/**
 * Runs a queued backtest (a sweep's run, delivered by OpenFaaS's queue at least once): only the
 * delivery that claims the row runs it; a repeat answers the row as it stands.
 */
export async function runQueuedBacktest(
  ctx: BacktestContext,
  backtestId: number,
): Promise<RunBacktestResult> {
  const existing = await getBacktest(ctx.sql, backtestId);
  if (!existing)
    throw new HttpError(404, 'not_found', `backtest ${backtestId} not found`, { backtestId: 'not found' });
  const config = await claimBacktest(ctx.sql, backtestId);
  if (!config) return answer(ctx.sql, backtestId);
  let prepared: PreparedStrategy;
  try {
    prepared = (await prepareBacktest(config)).prepared;
  } catch (err) {
    await failBacktest(ctx.sql, backtestId, err instanceof Error ? err.message : String(err));
    await announce(ctx, backtestId, 'failed', existing.sweepId);
    return answer(ctx.sql, backtestId);
  }
  await execute(
    ctx,
    backtestId,
    config,
    prepared,
    existing.sweepId ? 'summary' : 'full',
    existing.sweepId,
  ).catch(() => {});
  return answer(ctx.sql, backtestId);
}
