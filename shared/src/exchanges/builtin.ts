/**
 * The adapters Weaver ships, registered lazily so a function only loads the venue it uses.
 * Each adapter adds its own line here.
 */
import { registerExchange } from './registry.ts';

export function registerBuiltinExchanges(): void {
  registerExchange('sim', async () => (await import('./sim/index.ts')).createSimExchange);
  registerExchange('alpaca', async () => (await import('./alpaca/index.ts')).createAlpacaExchange);
  registerExchange('ccxt', async () => (await import('./ccxt/index.ts')).createCcxtExchange);
}
