/**
 * The process's exchange adapters: `getExchange()` is the venue WEAVER_EXCHANGE names (default `sim`),
 * `getExchange(name)` a named one; each is built once per process from env and secrets and cached.
 * Callers see only the ExchangeAdapter interface, so the pipeline is the same on every venue.
 */
import { env } from '../config/index.ts';
import { registerBuiltinExchanges } from './builtin.ts';
import { createExchange, exchangeNames } from './registry.ts';
import type { ExchangeAdapter } from './types.ts';

let registered = false;
const cache = new Map<string, Promise<ExchangeAdapter>>();
const optionSources = new Map<string, () => Record<string, unknown>>();

/**
 * Options an adapter is built with when asked for by name. None are needed by default: each adapter
 * validates its options and fills what is missing from env and secrets itself (the sim has defaults,
 * Alpaca reads its keys). A process that wants other settings for a venue (the local runner's sim, a
 * second account) registers them before first use.
 */
export function registerExchangeOptions(name: string, source: () => Record<string, unknown>): void {
  optionSources.set(name, source);
}

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
