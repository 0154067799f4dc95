export * from './channels.ts';
export * from './events.ts';
export * from './failures.ts';
export * from './message.ts';
export * from './send.ts';
export * from './summary.ts';
