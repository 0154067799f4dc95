import { listPositions, restingExits } from '@weaver/shared/db';
import { fromNumber, mul, round, sub } from '@weaver/shared/money';
import type { Position, PositionView, RestingExit } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import { lastPrices } from './bars.ts';

/** Decimal places kept for values derived from a bar price (itself a float observation). */
const DERIVED_PLACES = 8;

/**
 * Positions valued at the newest stored bar close of their symbol (null where there is no bar), with
 * the exit resting at the venue for each (`resting`, keyed `strategy|symbol`; null where none).
 */
export function valuePositions(
  positions: readonly Position[],
  prices: ReadonlyMap<string, number>,
  resting: ReadonlyMap<string, RestingExit> = new Map(),
): PositionView[] {
  return positions.map((p) => {
    const last = prices.get(p.symbol);
    const restingExit = resting.get(`${p.strategy}|${p.symbol}`) ?? null;
    if (last === undefined)
      return { ...p, lastPrice: null, marketValue: null, unrealizedPnl: null, restingExit };
    const price = fromNumber(last);
    return {
      ...p,
      restingExit,
      lastPrice: last,
      marketValue: round(mul(p.qty, price), DERIVED_PLACES),
      // Signed qty makes one formula right for longs and shorts.
      unrealizedPnl: round(mul(sub(price, p.avgPrice), p.qty), DERIVED_PLACES),
    };
  });
}

export async function positionViews(
  sql: Sql,
  f: { strategy?: string; symbol?: string; open?: boolean },
): Promise<PositionView[]> {
  const positions = await listPositions(sql, f);
  const [prices, resting] = await Promise.all([
    lastPrices(
      sql,
      positions.map((p) => p.symbol),
    ),
    restingExits(sql, positions),
  ]);
  return valuePositions(positions, prices, resting);
}
