import type { TradingHalt } from '@weaver/shared/schemas';

/** The kill switch's scope: every strategy, every order. */
export const GLOBAL_SCOPE = 'global';

/** Halts that stop `strategy`: global ones and those scoped to it (`strategy:<name>`). */
export function haltsFor(halts: readonly TradingHalt[], strategy: string): TradingHalt[] {
  return halts.filter((h) => h.scope === GLOBAL_SCOPE || h.scope === `strategy:${strategy}`);
}
