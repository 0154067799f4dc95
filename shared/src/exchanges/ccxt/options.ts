import { z } from 'zod';
import { env, secrets } from '../../config/index.ts';
import { parseAdapterOptions, RetryOptions, SecretInput } from '../adapter-options.ts';

/** Options of the CCXT adapter; anything left out comes from the environment and the secrets. */
export const CcxtOptionsSchema = z.object({
  /** Adapter name as the registry and the orders table know it. */
  name: z.string().min(1).default('ccxt'),
  /** The CCXT exchange id (WEAVER_CCXT_EXCHANGE, default binance). */
  exchangeId: z
    .string()
    .regex(/^[a-z0-9]+$/)
    .optional(),
  apiKey: SecretInput.optional(),
  secret: SecretInput.optional(),
  /** The venue's testnet (default unless WEAVER_LIVE_TRADING=true). */
  sandbox: z.boolean().optional(),
  /** `urls.api` entries to override (WEAVER_CCXT_URLS): a proxy, or a test server. */
  urls: z.record(z.string(), z.url()).optional(),
  /** The uid the keys must open before a live order is sent (WEAVER_CCXT_ACCOUNT_ID). */
  accountId: z.string().min(1).optional(),
  /** Quote currency of the account (cash): the quote of the pairs traded. */
  quoteCurrency: z.string().min(2).default('USDT'),
  timeoutMs: z.number().int().positive().default(15_000),
  /**
   * How long after its timestamp a signed request may still be accepted (Binance recvWindow). After an
   * unanswered submit Weaver waits this long before looking the order up, so a request still in flight
   * cannot land after the lookup said "no such order".
   */
  recvWindowMs: z.number().int().min(100).max(60_000).default(5_000),
  /** Clock difference allowed for between Weaver and the venue when waiting out a recvWindow. */
  clockSkewMs: z.number().int().min(0).max(10_000).default(1_000),
  /** Minimum milliseconds between requests (CCXT's throttle); default the exchange's own. */
  rateLimitMs: z.number().int().min(0).optional(),
  retry: RetryOptions,
});

export interface CcxtSettings extends Omit<z.output<typeof CcxtOptionsSchema>, 'exchangeId' | 'sandbox'> {
  exchangeId: string;
  sandbox: boolean;
}

export function resolveCcxtSettings(input: Record<string, unknown>): CcxtSettings {
  const o = parseAdapterOptions('ccxt', CcxtOptionsSchema, input);
  const e = env();
  const s = secrets();
  return {
    ...o,
    exchangeId: o.exchangeId ?? e.WEAVER_CCXT_EXCHANGE,
    apiKey: o.apiKey ?? s.ccxtApiKey,
    secret: o.secret ?? s.ccxtSecret,
    sandbox: o.sandbox ?? !e.WEAVER_LIVE_TRADING,
    urls: o.urls ?? e.WEAVER_CCXT_URLS,
    accountId: o.accountId ?? e.WEAVER_CCXT_ACCOUNT_ID,
  };
}
