export * from './builtin/sma-crossover.ts';
export * from './registry.ts';
export * from './types.ts';
