/**
 * The live trading pipeline. Functions are thin wrappers around these; the gateway, the local runner,
 * the benchmark and other venues' sync reuse them.
 */
export {
  defaultExchangeName,
  getExchange,
  knownExchanges,
  registerExchangeOptions,
  resetExchanges,
  setExchange,
} from '../exchanges/configured.ts';
export * from './booking.ts';
export * from './context.ts';
export * from './controls.ts';
export * from './fetch-bars.ts';
export * from './generate-signals.ts';
export * from './inputs.ts';
export * from './place-orders.ts';
export * from './protect.ts';
export * from './reconcile.ts';
export * from './record-trades.ts';
export * from './risk-events.ts';
export * from './venue-orders.ts';
