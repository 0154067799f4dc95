/**
 * Backtesting. Pure: engine.ts, metrics.ts, calendar.ts, run.ts, sweep.ts, csv.ts (no database, bus,
 * exchange or file system). I/O: data.ts (bars from Postgres), service.ts and sweep-service.ts (store
 * and announce), dispatch.ts and pool.ts (where runs execute).
 */
export * from './calendar.ts';
export * from './csv.ts';
export * from './data.ts';
export * from './dispatch.ts';
export * from './engine.ts';
export * from './metrics.ts';
export * from './parity.ts';
export * from './pool.ts';
export * from './run.ts';
export * from './service.ts';
export * from './shared-data.ts';
export * from './sweep.ts';
export * from './sweep-service.ts';
export * from './types.ts';
