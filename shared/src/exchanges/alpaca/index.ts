import type { ExchangeFactory } from '../registry.ts';
import { AlpacaExchange } from './adapter.ts';
import { resolveAlpacaSettings } from './options.ts';

export { AdapterConfigError } from '../adapter-options.ts';
export { type AccountIdentity, AlpacaExchange } from './adapter.ts';
export { type AlpacaOptionsInput, AlpacaOptionsSchema } from './options.ts';

/** The registry's factory: options override env (WEAVER_ALPACA_*) and secrets (alpaca-key-id, alpaca-secret-key). */
export const createAlpacaExchange: ExchangeFactory = (options) =>
  new AlpacaExchange(resolveAlpacaSettings(options));
