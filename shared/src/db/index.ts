export * from './bars.ts';
export * from './client.ts';
export * from './events.ts';
export * from './migrate.ts';
export * from './runs.ts';
