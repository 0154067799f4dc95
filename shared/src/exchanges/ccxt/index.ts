import { AdapterConfigError } from '../adapter-options.ts';
import type { ExchangeFactory } from '../registry.ts';
import { CcxtExchange } from './adapter.ts';
import { resolveCcxtSettings } from './options.ts';

export { AdapterConfigError } from '../adapter-options.ts';
export { CcxtExchange } from './adapter.ts';
export { CcxtOptionsSchema } from './options.ts';

/**
 * The registry's factory: options override env (WEAVER_CCXT_*) and secrets (ccxt-api-key,
 * ccxt-secret). CCXT is loaded here, on first use, so functions on other venues never pay for it.
 */
export const createCcxtExchange: ExchangeFactory = async (options) => {
  const s = resolveCcxtSettings(options);
  const ccxt = (await import('ccxt')).default as unknown as Record<string, unknown> & { exchanges: string[] };
  if (!ccxt.exchanges.includes(s.exchangeId)) {
    throw new AdapterConfigError(`ccxt has no exchange "${s.exchangeId}" (WEAVER_CCXT_EXCHANGE)`);
  }
  const Venue = ccxt[s.exchangeId] as new (config: Record<string, unknown>) => import('ccxt').Exchange;
  const ex = new Venue({
    apiKey: s.apiKey?.reveal(),
    secret: s.secret?.reveal(),
    enableRateLimit: true,
    ...(s.rateLimitMs !== undefined ? { rateLimit: s.rateLimitMs } : {}),
    timeout: s.timeoutMs,
    options: {
      defaultType: 'spot',
      fetchMarkets: { types: ['spot'] },
      // Spot only: no currency or margin-pair endpoints (private on Binance, absent on testnets).
      fetchCurrencies: false,
      fetchMargins: false,
      warnOnFetchOpenOrdersWithoutSymbol: false,
      adjustForTimeDifference: false,
      recvWindow: s.recvWindowMs,
    },
  });
  if (s.sandbox) {
    try {
      ex.setSandboxMode(true);
    } catch {
      throw new AdapterConfigError(
        `${s.exchangeId} has no testnet in ccxt: trading it needs WEAVER_LIVE_TRADING=true and WEAVER_CCXT_ACCOUNT_ID`,
      );
    }
  }
  if (s.urls) ex.urls.api = { ...(ex.urls.api as Record<string, string>), ...s.urls };
  return new CcxtExchange(s, ex);
};
