/**
 * The exits a user sets without writing code, as rules on one bar: pure, so live trading
 * (generate-signals) and any other caller read the levels the same way the backtester does
 * (backtest/engine.ts checkExits: the stop is the higher of the stop-loss and the trailing stop, the
 * stop is tested before the target, the water mark counts the bars before this one).
 */
import type { ExitRule } from '../schemas/index.ts';
import type { StrategyExits } from './types.ts';

/** The module's default exits with the configuration's own on top (a set value wins). */
export function mergeExits(moduleExits: StrategyExits, configExits: StrategyExits): StrategyExits {
  const out: StrategyExits = { ...moduleExits };
  for (const k of ['stopLoss', 'takeProfit', 'trailingStop'] as const) {
    if (configExits[k] !== undefined) out[k] = configExits[k];
  }
  return out;
}

/** An exit's name as a person reads it: 'stop_loss' → 'stop loss'. */
export const exitRuleText = (rule: string): string => rule.replace('_', ' ');

export const hasExits = (e: StrategyExits): boolean =>
  (e.stopLoss ?? 0) > 0 || (e.takeProfit ?? 0) > 0 || (e.trailingStop ?? 0) > 0;

export interface ExitHit {
  rule: ExitRule;
  /** The level the bar reached. */
  level: number;
}

/** A position's exit prices: the stop (the tighter of stop-loss and trailing stop) and the target. */
export interface ExitLevels {
  stop: number | null;
  /** Which exit the stop stands for. */
  stopRule: 'stop_loss' | 'trailing_stop' | null;
  takeProfit: number | null;
}

/**
 * The levels of a position: `long` its direction, `entry` its average entry price, `mark` the best price
 * since entry (highest high of a long, lowest low of a short; the entry price when there is none).
 */
export function exitLevels(long: boolean, entry: number, mark: number, exits: StrategyExits): ExitLevels {
  const sl = exits.stopLoss ?? 0;
  const tp = exits.takeProfit ?? 0;
  const tr = exits.trailingStop ?? 0;
  if (long) {
    const fixed = sl > 0 ? entry * (1 - sl) : 0;
    const trailing = tr > 0 ? mark * (1 - tr) : 0;
    const stop = Math.max(fixed, trailing);
    return {
      stop: stop > 0 ? stop : null,
      stopRule: stop > 0 ? (trailing > fixed ? 'trailing_stop' : 'stop_loss') : null,
      takeProfit: tp > 0 ? entry * (1 + tp) : null,
    };
  }
  const fixed = sl > 0 ? entry * (1 + sl) : Number.POSITIVE_INFINITY;
  const trailing = tr > 0 ? mark * (1 + tr) : Number.POSITIVE_INFINITY;
  const stop = Math.min(fixed, trailing);
  const finite = stop < Number.POSITIVE_INFINITY;
  return {
    stop: finite ? stop : null,
    stopRule: finite ? (trailing < fixed ? 'trailing_stop' : 'stop_loss') : null,
    takeProfit: tp > 0 ? entry * (1 - tp) : null,
  };
}

/**
 * Whether a bar's range reached an exit of a position (see exitLevels for `long`, `entry` and `mark`,
 * which counts the bars before this one). When both the stop and the target are within the bar, the
 * stop is assumed first (the pessimistic reading).
 */
export function exitHit(
  long: boolean,
  entry: number,
  mark: number,
  bar: { high: number; low: number },
  exits: StrategyExits,
): ExitHit | null {
  const { stop, stopRule, takeProfit } = exitLevels(long, entry, mark, exits);
  if (stop !== null && stopRule !== null && (long ? bar.low <= stop : bar.high >= stop))
    return { rule: stopRule, level: stop };
  if (takeProfit !== null && (long ? bar.high >= takeProfit : bar.low <= takeProfit))
    return { rule: 'take_profit', level: takeProfit };
  return null;
}
