import type { ExchangeAdapter } from './types.ts';

/** Builds an adapter; `options` are adapter-specific and validated by the adapter itself. */
export type ExchangeFactory = (
  options: Record<string, unknown>,
) => Promise<ExchangeAdapter> | ExchangeAdapter;

const factories = new Map<string, () => Promise<ExchangeFactory>>();

/**
 * Adapters are registered by name and loaded on first use, so a function bundles only what it
 * imports and a new venue is one `registerExchange` call.
 */
export function registerExchange(name: string, load: () => Promise<ExchangeFactory>): void {
  factories.set(name, load);
}

export function exchangeNames(): string[] {
  return [...factories.keys()].sort();
}

export async function createExchange(
  name: string,
  options: Record<string, unknown> = {},
): Promise<ExchangeAdapter> {
  const load = factories.get(name);
  if (!load) {
    throw new Error(`unknown exchange "${name}" (known: ${exchangeNames().join(', ') || 'none'})`);
  }
  return (await load())(options);
}
