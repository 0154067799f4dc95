/**
 * Paper by default; live only on explicit opt-in. An adapter that can reach real money (`live`) may be
 * used by place-order only when WEAVER_LIVE_TRADING=true AND the account the keys open is the one named
 * in the adapter's account-id variable (WEAVER_ALPACA_ACCOUNT_ID, WEAVER_CCXT_ACCOUNT_ID). Anything else
 * refuses to start, with a message naming the variable.
 */
import { ConfigError, type Env, env } from '../config/index.ts';
import type { ExchangeAdapter } from './types.ts';

export type TradingModeName = 'paper' | 'live' | 'simulated';

export interface TradingMode {
  mode: TradingModeName;
  exchange: string;
  /** The venue account orders go to, when the venue has one. */
  accountId: string | null;
}

/** Place-order must not start: the message says why and which variable to change. */
export class TradingModeError extends ConfigError {
  constructor(field: string, message: string) {
    super({ [field]: message });
    this.name = 'TradingModeError';
    this.message = `place-order refuses to start: ${field} ${message}`;
  }
}

/** What an adapter that can trade real money exposes so the mode can be checked. */
export type AccountIdVariable = 'WEAVER_ALPACA_ACCOUNT_ID' | 'WEAVER_CCXT_ACCOUNT_ID';

export interface LiveCapable {
  readonly live: boolean;
  /** The setting that names the account live orders may go to. */
  readonly accountIdVariable: AccountIdVariable;
  accountIdentity(): Promise<{ id: string; accountNumber: string | null }>;
}

export const isLiveCapable = (a: unknown): a is LiveCapable =>
  typeof a === 'object' &&
  a !== null &&
  'live' in a &&
  typeof (a as LiveCapable).accountIdentity === 'function';

/** Throws unless `identity` is the account `expected` names (by id or account number). */
export function verifyLiveAccount(p: {
  exchange: string;
  identity: { id: string; accountNumber: string | null };
  expected: string | undefined;
  variable: AccountIdVariable;
}): void {
  if (!p.expected) {
    throw new TradingModeError(
      p.variable,
      `is required for live trading on ${p.exchange}: set it to the id of the account the keys open`,
    );
  }
  const matches =
    p.expected === p.identity.id ||
    (p.identity.accountNumber !== null && p.expected === p.identity.accountNumber);
  if (!matches) {
    throw new TradingModeError(
      p.variable,
      `does not match the account the ${p.exchange} keys open: live orders would go to another account`,
    );
  }
}

/**
 * For an adapter: a check, run before its first live order and remembered once it passed, that the keys
 * open the configured account. A paper adapter passes at once.
 */
export function liveAccountCheck(
  adapter: LiveCapable & { readonly name: string },
  expected: () => string | undefined,
): () => Promise<void> {
  let passed: Promise<void> | null = null;
  return () => {
    if (!adapter.live) return Promise.resolve();
    passed ??= adapter
      .accountIdentity()
      .then((identity) =>
        verifyLiveAccount({
          exchange: adapter.name,
          identity,
          expected: expected(),
          variable: adapter.accountIdVariable,
        }),
      )
      .catch((err) => {
        passed = null;
        throw err;
      });
    return passed;
  };
}

const checked = new WeakMap<object, Promise<TradingMode>>();

/**
 * Checks that `adapter` may place orders under the environment's trading mode, once per adapter.
 * place-order calls this before anything else and answers with the error when it throws.
 */
export function assertTradingMode(adapter: ExchangeAdapter, e: Env = env()): Promise<TradingMode> {
  let p = checked.get(adapter);
  if (!p) {
    p = checkTradingMode(adapter, e);
    checked.set(adapter, p);
    p.catch(() => checked.delete(adapter));
  }
  return p;
}

async function checkTradingMode(adapter: ExchangeAdapter, e: Env): Promise<TradingMode> {
  if (!isLiveCapable(adapter)) {
    if (e.WEAVER_LIVE_TRADING) {
      throw new TradingModeError(
        'WEAVER_LIVE_TRADING',
        `is true but exchange "${adapter.name}" cannot trade live (configure a venue's keys and WEAVER_EXCHANGE)`,
      );
    }
    return { mode: 'simulated', exchange: adapter.name, accountId: null };
  }
  if (!adapter.live) {
    if (e.WEAVER_LIVE_TRADING) {
      throw new TradingModeError(
        'WEAVER_LIVE_TRADING',
        `is true but exchange "${adapter.name}" is configured for paper trading`,
      );
    }
    return { mode: 'paper', exchange: adapter.name, accountId: null };
  }
  if (!e.WEAVER_LIVE_TRADING) {
    throw new TradingModeError(
      'WEAVER_LIVE_TRADING',
      `must be true to trade live on "${adapter.name}"; without it Weaver only paper trades`,
    );
  }
  const identity = await adapter.accountIdentity();
  const variable = adapter.accountIdVariable;
  verifyLiveAccount({ exchange: adapter.name, identity, expected: e[variable], variable });
  return { mode: 'live', exchange: adapter.name, accountId: identity.id };
}
