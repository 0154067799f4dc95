/**
 * The process's exchange adapters: `getExchange()` is the venue WEAVER_EXCHANGE names (default `sim`),
 * `getExchange(name)` a named one; each is built once per process from env and secrets and cached.
 * Callers see only the ExchangeAdapter interface, so the pipeline is the same on every venue.
 */
import { env, secrets } from '../config/index.ts';
import { registerBuiltinExchanges } from './builtin.ts';
import { createExchange, exchangeNames } from './registry.ts';
import type { ExchangeAdapter } from './types.ts';

let registered = false;
const cache = new Map<string, Promise<ExchangeAdapter>>();
const optionSources = new Map<string, () => Record<string, unknown>>();

/**
 * Where an adapter's options come from when built by name. Adapters that read nothing from the
 * environment need no entry; an adapter module registers its own source next to its factory.
 */
export function registerExchangeOptions(name: string, source: () => Record<string, unknown>): void {
  optionSources.set(name, source);
}

// Alpaca's settings already exist in config (env + OpenFaaS secrets); the adapter validates them itself.
registerExchangeOptions('alpaca', () => {
  const e = env();
  const s = secrets();
  return {
    keyId: s.alpacaKeyId,
    secretKey: s.alpacaSecretKey,
    paper: !e.WEAVER_LIVE_TRADING,
    accountId: e.WEAVER_ALPACA_ACCOUNT_ID,
    feed: e.WEAVER_ALPACA_FEED,
    tradingUrl: e.WEAVER_ALPACA_TRADING_URL,
    dataUrl: e.WEAVER_ALPACA_DATA_URL,
  };
});

function ensureRegistered(): void {
  if (!registered) {
    registerBuiltinExchanges();
    registered = true;
  }
}

/** Name of the venue used when a strategy names none. */
export function defaultExchangeName(): string {
  return env().WEAVER_EXCHANGE;
}

export function knownExchanges(): string[] {
  ensureRegistered();
  return exchangeNames();
}

/** The adapter for `name` (default: WEAVER_EXCHANGE), built on first use and shared afterwards. */
export function getExchange(name: string = defaultExchangeName()): Promise<ExchangeAdapter> {
  ensureRegistered();
  let adapter = cache.get(name);
  if (!adapter) {
    const options = optionSources.get(name)?.() ?? {};
    adapter = createExchange(name, options);
    cache.set(name, adapter);
    // A failed build (bad options, unknown name) is not cached: the next call retries.
    adapter.catch(() => cache.delete(name));
  }
  return adapter;
}

/** Use `adapter` for `name` in this process (the local runner, tests with a custom venue). */
export function setExchange(name: string, adapter: ExchangeAdapter): void {
  cache.set(name, Promise.resolve(adapter));
}

/** Forget every adapter (closing those that hold connections). */
export async function resetExchanges(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const a of all) await (await a.catch(() => undefined))?.close?.();
}
