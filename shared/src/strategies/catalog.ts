import type { StrategyModule } from './types.ts';

/**
 * The strategy modules this process knows right now: built-ins (registered once) and user modules
 * (the registry adds each as it loads it, and replaces it when its file changes). Synchronous, so a
 * combination can resolve its members inside `create`.
 */
const known = new Map<string, StrategyModule>();

export function registerStrategy(module: StrategyModule): void {
  known.set(module.name, module);
}

export function forgetStrategy(name: string): void {
  known.delete(name);
}

/** A loaded module by name, or undefined (load user modules with `loadStrategy` first). */
export function knownStrategy(name: string): StrategyModule | undefined {
  return known.get(name);
}
