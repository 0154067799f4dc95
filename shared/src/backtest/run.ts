/**
 * One backtest from bars to result, pure: strategy instances (guarded) per symbol, the engine, the
 * metrics, the curves and the trade list, in the shapes the database and the API use.
 */

import type { z } from 'zod';
import type { BarSeries } from '../bars/index.ts';
import type {
  BacktestMetrics,
  BacktestSeries,
  BacktestTrade,
  PeriodicReturns,
  SimulationSettings as SimulationSettingsSchema,
} from '../schemas/backtest.ts';
import { mergeExits } from '../strategies/exits.ts';
import type { PreparedStrategy, StrategyFault, StrategyInstance } from '../strategies/index.ts';
import { periodsPerYear, type TradingCalendar } from './calendar.ts';
import { CurveStats } from './curve-stats.ts';
import { runEngine } from './engine.ts';
import { columnBuffers, type TradeColumns, type TradeLog, tradeObjects } from './logs.ts';
import { computeMetrics, periodicReturns, riskFreePerPeriod } from './metrics.ts';
import type { DecisionRecord, EngineConfig, EngineResult } from './types.ts';

export type SimulationSettings = z.output<typeof SimulationSettingsSchema>;

export function calendarOf(
  settings: Pick<SimulationSettings, 'calendar'>,
  symbols: readonly string[],
): TradingCalendar {
  return settings.calendar ?? (symbols.every((s) => s.includes('/')) ? 'crypto' : 'stocks');
}

/** Boundary settings (decimal strings, optional fields) → the engine's numbers. The config's exits win over the strategy's. */
export function engineConfigOf(
  settings: SimulationSettings,
  strategyExits: PreparedStrategy['exits'],
): EngineConfig {
  const z = settings.sizing;
  const exits = mergeExits(strategyExits, settings.exits);
  return {
    cash: settings.cash,
    sizing:
      z.type === 'fixed_qty'
        ? { type: 'fixed_qty', qty: Number(z.qty) }
        : z.type === 'fixed_notional'
          ? { type: 'fixed_notional', notional: Number(z.notional) }
          : { type: 'percent_equity', percent: z.percent },
    fractional: settings.fractional,
    commission: settings.commission,
    slippageBps: settings.slippageBps,
    fillAt: settings.fillAt,
    allowShort: settings.allowShort,
    exits,
    order: settings.order,
    tradeFrom: settings.from ? Date.parse(settings.from) : Number.NEGATIVE_INFINITY,
  };
}

/** A view of `s` ending at the last bar at or before `to` (epoch ms): no copy. */
export function sliceTo(s: BarSeries, to: number): BarSeries {
  let hi = s.length;
  while (hi > 0 && s.time[hi - 1] > to) hi--;
  if (hi === s.length) return s;
  return {
    symbol: s.symbol,
    timeframe: s.timeframe,
    length: hi,
    time: s.time.subarray(0, hi),
    open: s.open.subarray(0, hi),
    high: s.high.subarray(0, hi),
    low: s.low.subarray(0, hi),
    close: s.close.subarray(0, hi),
    volume: s.volume.subarray(0, hi),
  };
}

/**
 * A view of `s` starting `warmup` bars before `from`: a run over a longer history (a sweep's shared
 * data) then sees exactly the bars a stand-alone backtest of the same window loads.
 */
export function trimWarmup(s: BarSeries, from: number, warmup: number): BarSeries {
  if (from === Number.NEGATIVE_INFINITY) return s;
  let lo = 0;
  while (lo < s.length && s.time[lo] < from) lo++;
  const start = Math.max(0, lo - warmup);
  if (start === 0) return s;
  const end = s.length;
  return {
    symbol: s.symbol,
    timeframe: s.timeframe,
    length: end - start,
    time: s.time.subarray(start, end),
    open: s.open.subarray(start, end),
    high: s.high.subarray(start, end),
    low: s.low.subarray(start, end),
    close: s.close.subarray(start, end),
    volume: s.volume.subarray(start, end),
  };
}

/** Points a sweep run keeps of its curves. */
const SAMPLE_POINTS = 1000;

export interface BacktestOutcome {
  metrics: BacktestMetrics;
  trades: BacktestTrade[];
  series: BacktestSeries;
  decisions: DecisionRecord[];
  fills: EngineResult['fills'];
  /** Strategies disabled during the run (threw, malformed output), with the reason. */
  faults: StrategyFault[];
  barsProcessed: number;
}

/**
 * A run's result before its lists are made objects: trades as columns and curves as typed arrays, so a
 * worker thread moves them to the pool without a copy (columnBuffers, curveBuffers) and the receiver
 * builds objects only for what it reads.
 */
export interface PackedOutcome {
  metrics: BacktestMetrics;
  faults: StrategyFault[];
  symbols: string[];
  trades: TradeColumns;
  curves: {
    times: Float64Array;
    equity: Float64Array;
    drawdown: Float64Array;
    benchmark: Float64Array;
    sampled: boolean;
  };
  returns: PeriodicReturns;
  barsProcessed: number;
}

export interface RunOptions {
  /** summary: curves thinned to 1,000 points and no periodic tables (sweeps); full by default. */
  detail?: 'full' | 'summary';
}

/** An array that owns its whole (ordinary) buffer, so the buffer can be moved to another thread. */
function owning(a: Float64Array): Float64Array {
  const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return whole && a.buffer instanceof ArrayBuffer ? a : a.slice();
}

/**
 * The packed result ready to post to another thread, and the buffers to move with it (copying only the
 * curves that are views of something bigger, like a whole run's times).
 */
export function movable(p: PackedOutcome): { packed: PackedOutcome; transfer: ArrayBuffer[] } {
  const c = p.curves;
  const curves = {
    ...c,
    times: owning(c.times),
    equity: owning(c.equity),
    drawdown: owning(c.drawdown),
    benchmark: owning(c.benchmark),
  };
  const transfer = [
    ...columnBuffers(p.trades),
    ...[curves.times, curves.equity, curves.drawdown, curves.benchmark].map((a) => a.buffer as ArrayBuffer),
  ];
  return { packed: { ...p, curves }, transfer };
}

/** The series of a packed result, as the API and the database take it. */
export function seriesOf(p: PackedOutcome): BacktestSeries {
  const c = p.curves;
  return {
    times: Array.from(c.times),
    equity: Array.from(c.equity),
    drawdown: Array.from(c.drawdown),
    benchmark: Array.from(c.benchmark),
    returns: p.returns,
    sampled: c.sampled,
  };
}

/**
 * Runs a prepared strategy over `series` (one per symbol, warm-up bars included before `from`,
 * nothing after `to`).
 */
export function runBacktest(
  series: readonly BarSeries[],
  prepared: PreparedStrategy,
  settings: SimulationSettings,
  options: RunOptions = {},
): BacktestOutcome {
  const { packed, engine } = execute(series, prepared, settings, options);
  return {
    metrics: packed.metrics,
    trades: tradeObjects(packed.trades, packed.symbols),
    series: seriesOf(packed),
    // Built when read (the parity report reads them; a stored result does not).
    get decisions() {
      return engine.decisions;
    },
    get fills() {
      return engine.fills;
    },
    faults: packed.faults,
    barsProcessed: packed.barsProcessed,
  };
}

/** runBacktest without building objects: for worker threads (see PackedOutcome). */
export function runBacktestPacked(
  series: readonly BarSeries[],
  prepared: PreparedStrategy,
  settings: SimulationSettings,
  options: RunOptions = {},
): PackedOutcome {
  return execute(series, prepared, settings, options).packed;
}

function execute(
  series: readonly BarSeries[],
  prepared: PreparedStrategy,
  settings: SimulationSettings,
  options: RunOptions,
): { packed: PackedOutcome; engine: EngineResult } {
  const faults: StrategyFault[] = [];
  const to = settings.to ? Date.parse(settings.to) : Number.POSITIVE_INFINITY;
  const from = settings.from ? Date.parse(settings.from) : Number.NEGATIVE_INFINITY;
  const cut = series.map((s) => trimWarmup(sliceTo(s, to), from, prepared.warmup));
  const onFault = (f: StrategyFault) => faults.push(f);
  const instances = cut.map((s): StrategyInstance => {
    try {
      return prepared.module.create(prepared.params);
    } catch (err) {
      onFault({
        strategy: prepared.module.name,
        symbol: s.symbol,
        reason: `create() threw: ${err instanceof Error ? err.message : String(err)}`,
      });
      return { next: () => 0 };
    }
  });
  const cfg = engineConfigOf(settings, prepared.exits);
  const symbols = cut.map((s) => s.symbol);
  const full = options.detail !== 'summary';
  const metricsOptions = {
    periodsPerYear: periodsPerYear(settings.timeframe, calendarOf(settings, symbols)),
    riskFreeRate: settings.riskFreeRate,
  };
  // The curve's statistics and drawdown series are taken while the engine runs (see CurveStats).
  const stats = new CurveStats(cfg.cash, riskFreePerPeriod(metricsOptions));
  const r = runEngine(
    cut,
    instances,
    cfg,
    { strategy: prepared.module.name, onFault },
    {
      samplePoints: full ? 0 : SAMPLE_POINTS,
      sink: (points, keep) => stats.withDrawdownSeries(points, keep),
    },
  );
  const metrics = computeMetrics(r, metricsOptions, stats.summary());
  const packed: PackedOutcome = {
    metrics,
    faults,
    symbols,
    trades: (r.tradeLog as TradeLog).columns(),
    curves: {
      times: r.times,
      equity: r.equity,
      drawdown: stats.drawdownSeries ?? new Float64Array(0),
      benchmark: r.benchmark,
      sampled: r.sampledAt != null,
    },
    returns: full
      ? periodicReturns(r.times, r.equity, r.startEquity)
      : { daily: [], weekly: [], monthly: [] },
    barsProcessed: r.barsProcessed,
  };
  return { packed, engine: r };
}
