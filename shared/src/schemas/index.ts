export * from './bar.ts';
export * from './common.ts';
export * from './events.ts';
export * from './order.ts';
export * from './signal.ts';
export * from './strategy.ts';
export * from './system.ts';
export * from './trade.ts';
