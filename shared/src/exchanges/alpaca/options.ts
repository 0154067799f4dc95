import { z } from 'zod';
import { env, type Secret, secrets } from '../../config/index.ts';
import { AdapterConfigError, parseAdapterOptions, RetryOptions, SecretInput } from '../adapter-options.ts';

/** Options of the Alpaca adapter; anything left out comes from the environment and the secrets. */
export const AlpacaOptionsSchema = z.object({
  /** Adapter name as the registry and the orders table know it. */
  name: z.string().min(1).default('alpaca'),
  keyId: SecretInput.optional(),
  secretKey: SecretInput.optional(),
  /** Paper (default) or live; live also needs WEAVER_LIVE_TRADING and a matching account id. */
  paper: z.boolean().optional(),
  /** The account id the keys must open before a live order is sent (WEAVER_ALPACA_ACCOUNT_ID). */
  accountId: z.string().min(1).optional(),
  /** Explicit API hosts (the SDK's basePath): a proxy, or a test server. */
  tradingUrl: z.url().optional(),
  dataUrl: z.url().optional(),
  feed: z.enum(['iex', 'sip']).optional(),
  /** Crypto data location (`us`). */
  cryptoLocation: z.string().min(1).default('us'),
  /** Per-request deadline. A submit that times out is resolved by a lookup, never blindly resent. */
  timeoutMs: z.number().int().positive().default(15_000),
  /**
   * The SDK's token bucket, per host: bursts of `maxRequests`, refilled at `maxRequests` per
   * `intervalMs`. Alpaca allows about 200 requests a minute.
   */
  rateLimit: z
    .object({
      maxRequests: z.number().int().positive().default(190),
      intervalMs: z.number().int().positive().default(60_000),
    })
    .default({ maxRequests: 190, intervalMs: 60_000 }),
  retry: RetryOptions,
});
export type AlpacaOptionsInput = z.input<typeof AlpacaOptionsSchema>;

export interface AlpacaSettings
  extends Omit<z.output<typeof AlpacaOptionsSchema>, 'keyId' | 'secretKey' | 'paper' | 'feed'> {
  keyId: Secret;
  secretKey: Secret;
  paper: boolean;
  feed: 'iex' | 'sip';
}

/** Validates options and fills the rest from env and secrets. Missing keys throw naming the secret. */
export function resolveAlpacaSettings(input: Record<string, unknown>): AlpacaSettings {
  const o = parseAdapterOptions('alpaca', AlpacaOptionsSchema, input);
  const e = env();
  const s = secrets();
  const keyId = o.keyId ?? s.alpacaKeyId;
  const secretKey = o.secretKey ?? s.alpacaSecretKey;
  if (!keyId || !secretKey) {
    throw new AdapterConfigError(
      'alpaca needs API keys: secrets alpaca-key-id and alpaca-secret-key (or env APCA_API_KEY_ID / APCA_API_SECRET_KEY)',
    );
  }
  return {
    ...o,
    keyId,
    secretKey,
    paper: o.paper ?? !e.WEAVER_LIVE_TRADING,
    accountId: o.accountId ?? e.WEAVER_ALPACA_ACCOUNT_ID,
    tradingUrl: o.tradingUrl ?? e.WEAVER_ALPACA_TRADING_URL,
    dataUrl: o.dataUrl ?? e.WEAVER_ALPACA_DATA_URL,
    feed: o.feed ?? e.WEAVER_ALPACA_FEED,
  };
}
