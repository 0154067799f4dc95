import { smaCrossover } from './builtin/sma-crossover.ts';
import type { StrategyModule } from './types.ts';

const builtins = new Map<string, StrategyModule>([[smaCrossover.name, smaCrossover as unknown as StrategyModule]]);

export function builtinStrategies(): StrategyModule[] {
  return [...builtins.values()];
}

export function getBuiltinStrategy(name: string): StrategyModule | undefined {
  return builtins.get(name);
}
