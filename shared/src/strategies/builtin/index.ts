import type { StrategyModule } from '../types.ts';
import { bollingerBreakout } from './bollinger-breakout.ts';
import { buyAndHold } from './buy-and-hold.ts';
import { combination } from './combination.ts';
import { donchianBreakout } from './donchian-breakout.ts';
import { emaCrossover } from './ema-crossover.ts';
import { macd } from './macd.ts';
import { rsiMeanReversion } from './rsi-mean-reversion.ts';
import { smaCrossover } from './sma-crossover.ts';

export {
  bollingerBreakout,
  buyAndHold,
  combination,
  donchianBreakout,
  emaCrossover,
  macd,
  rsiMeanReversion,
  smaCrossover,
};

/** Every built-in strategy, in the order the UI lists them. */
export const BUILTIN_STRATEGIES: readonly StrategyModule[] = [
  smaCrossover,
  emaCrossover,
  rsiMeanReversion,
  bollingerBreakout,
  macd,
  donchianBreakout,
  buyAndHold,
  combination,
] as unknown as StrategyModule[];
