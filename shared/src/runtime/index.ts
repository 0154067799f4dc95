export * from './errors.ts';
export * from './faas.ts';
export * from './function.ts';
export * from './function-env.ts';
