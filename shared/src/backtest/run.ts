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
  SimulationSettings as SimulationSettingsSchema,
} from '../schemas/backtest.ts';
import type { PreparedStrategy, StrategyFault, StrategyInstance } from '../strategies/index.ts';
import { isoTime, periodsPerYear, type TradingCalendar } from './calendar.ts';
import { runEngine } from './engine.ts';
import { computeMetrics, drawdowns, periodicReturns } from './metrics.ts';
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
  const exits = { ...strategyExits };
  for (const k of ['stopLoss', 'takeProfit', 'trailingStop'] as const) {
    if (settings.exits[k] !== undefined) exits[k] = settings.exits[k];
  }
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

/** Indexes of at most 1,000 evenly spaced points of a curve, the first and last included (sweep runs). */
function thinned(n: number): Int32Array | null {
  const max = 1000;
  if (n <= max) return null;
  const idx = new Int32Array(max);
  for (let k = 0; k < max; k++) idx[k] = Math.round((k * (n - 1)) / (max - 1));
  return idx;
}

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

export interface RunOptions {
  /** summary: curves thinned to 1,000 points and no periodic tables (sweeps); full by default. */
  detail?: 'full' | 'summary';
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
  const r = runEngine(cut, instances, cfg, { strategy: prepared.module.name, onFault });
  const symbols = cut.map((s) => s.symbol);
  const full = options.detail !== 'summary';
  const pick = full ? null : thinned(r.times.length);
  const drawdown = drawdowns(r.times, r.equity, r.startEquity, pick);
  const metrics = computeMetrics(
    r,
    {
      periodsPerYear: periodsPerYear(settings.timeframe, calendarOf(settings, symbols)),
      riskFreeRate: settings.riskFreeRate,
    },
    drawdown.info,
  );
  const arr = (a: Float64Array): number[] => (pick ? Array.from(pick, (i) => a[i]) : Array.from(a));
  const iso = isoTime;
  return {
    metrics,
    trades: r.trades.map((t, i) => ({
      seq: i + 1,
      symbol: t.symbol,
      side: t.side,
      qty: t.qty,
      entryTime: iso(t.entryTime),
      entryPrice: t.entryPrice,
      exitTime: t.exitTime === null ? null : iso(t.exitTime),
      exitPrice: t.exitPrice,
      pnl: t.pnl,
      fees: t.fees,
      netPnl: t.netPnl,
      returnPct: t.returnPct,
      exitReason: t.exitReason,
      bars: t.bars,
    })),
    series: {
      times: arr(r.times),
      equity: arr(r.equity),
      drawdown: Array.from(drawdown.series),
      benchmark: arr(r.benchmark),
      returns: full
        ? periodicReturns(r.times, r.equity, r.startEquity)
        : { daily: [], weekly: [], monthly: [] },
      sampled: pick !== null,
    },
    decisions: r.decisions,
    fills: r.fills,
    faults,
    barsProcessed: r.barsProcessed,
  };
}
