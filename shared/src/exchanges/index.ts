export * from './configured.ts';
export * from './registry.ts';
export * from './types.ts';
