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

/**
 * Whether a bar's range reached an exit of a position: `long` its direction, `entry` its average entry
 * price, `mark` the best price since entry before this bar (highest high of a long, lowest low of a
 * short; the entry price when there is none). When both the stop and the target are within the bar, the
 * stop is assumed first (the pessimistic reading).
 */
export function exitHit(
  long: boolean,
  entry: number,
  mark: number,
  bar: { high: number; low: number },
  exits: StrategyExits,
): ExitHit | null {
  const sl = exits.stopLoss ?? 0;
  const tp = exits.takeProfit ?? 0;
  const tr = exits.trailingStop ?? 0;
  if (long) {
    const fixed = sl > 0 ? entry * (1 - sl) : 0;
    const trailing = tr > 0 ? mark * (1 - tr) : 0;
    const stop = Math.max(fixed, trailing);
    if (stop > 0 && bar.low <= stop)
      return { rule: trailing > fixed ? 'trailing_stop' : 'stop_loss', level: stop };
    if (tp > 0 && bar.high >= entry * (1 + tp)) return { rule: 'take_profit', level: entry * (1 + tp) };
    return null;
  }
  const fixed = sl > 0 ? entry * (1 + sl) : Number.POSITIVE_INFINITY;
  const trailing = tr > 0 ? mark * (1 + tr) : Number.POSITIVE_INFINITY;
  const stop = Math.min(fixed, trailing);
  if (stop < Number.POSITIVE_INFINITY && bar.high >= stop)
    return { rule: trailing < fixed ? 'trailing_stop' : 'stop_loss', level: stop };
  if (tp > 0 && bar.low <= entry * (1 - tp)) return { rule: 'take_profit', level: entry * (1 - tp) };
  return null;
}
