export * from './errors.ts';
export * from './faas.ts';
export * from './function.ts';
