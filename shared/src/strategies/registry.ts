import { smaCrossover } from './builtin/sma-crossover.ts';
import type { StrategyModule } from './types.ts';

const builtins = new Map<string, StrategyModule>([[smaCrossover.name, smaCrossover as unknown as StrategyModule]]);

export function builtinStrategies(): StrategyModule[] {
  return [...builtins.values()];
}

export function getBuiltinStrategy(name: string): StrategyModule | undefined {
  return builtins.get(name);
}

export class StrategyLoadError extends Error {
  constructor(
    readonly strategy: string,
    readonly reason: string,
  ) {
    super(`strategy "${strategy}" could not be loaded: ${reason}`);
    this.name = 'StrategyLoadError';
  }
}

/**
 * The one way callers (generate-signals, the backtester, the API) obtain a strategy module by name.
 * Throws StrategyLoadError naming the strategy and the reason.
 */
export async function loadStrategy(name: string): Promise<StrategyModule> {
  const builtin = builtins.get(name);
  if (builtin) return builtin;
  throw new StrategyLoadError(name, 'no such strategy');
}
