export * from './builtin/index.ts';
export * from './exits.ts';
export * from './guard.ts';
export * from './registry.ts';
export * from './types.ts';
