export * from './configured.ts';
export * from './market-hours.ts';
export * from './registry.ts';
export * from './symbols.ts';
export * from './trading-mode.ts';
export * from './types.ts';
