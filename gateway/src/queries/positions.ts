import { listPositions } from '@weaver/shared/db';
import { fromNumber, mul, round, sub } from '@weaver/shared/money';
import type { Position, PositionView } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import { lastPrices } from './bars.ts';

/** Decimal places kept for values derived from a bar price (itself a float observation). */
const DERIVED_PLACES = 8;

/** Positions valued at the newest stored bar close of their symbol (null where there is no bar). */
export function valuePositions(
  positions: readonly Position[],
  prices: ReadonlyMap<string, number>,
): PositionView[] {
  return positions.map((p) => {
    const last = prices.get(p.symbol);
    if (last === undefined) return { ...p, lastPrice: null, marketValue: null, unrealizedPnl: null };
    const price = fromNumber(last);
    return {
      ...p,
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
  return valuePositions(
    positions,
    await lastPrices(
      sql,
      positions.map((p) => p.symbol),
    ),
  );
}
