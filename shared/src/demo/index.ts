export * from './ensure.ts';
export * from './generator.ts';
