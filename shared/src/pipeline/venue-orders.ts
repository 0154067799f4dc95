/**
 * Is the order a venue holds under one of our client order ids really ours? A venue answers a lookup by
 * client id (and refuses a resubmission as a duplicate) whatever order carries that id: one placed by
 * another tool on the same account, or a person reusing an id. Adopting such an order would book
 * someone else's fills, so it is adopted only when symbol, side and size agree with our row.
 */
import { conformOrder } from '../exchanges/symbols.ts';
import type { ExchangeAdapter, ExchangeOrder } from '../exchanges/types.ts';
import { eq } from '../money/index.ts';
import type { Order, OrderIntent } from '../schemas/index.ts';

/** The intent a stored order was (or is to be) submitted with. */
export function intentOf(o: Order, referencePrice?: string): OrderIntent {
  return {
    clientOrderId: o.clientOrderId,
    strategy: o.strategy,
    signalId: o.signalId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    qty: o.qty ?? undefined,
    notional: o.notional ?? undefined,
    limitPrice: o.limitPrice ?? undefined,
    stopPrice: o.stopPrice ?? undefined,
    trailPercent: o.trailPercent ?? undefined,
    orderClass: o.orderClass,
    referencePrice,
  };
}

const describe = (o: {
  side: string;
  symbol: string;
  qty: string | null;
  notional: string | null;
}): string =>
  o.qty !== null ? `${o.side} ${o.qty} ${o.symbol}` : `${o.side} ${o.symbol} for ${o.notional ?? '?'}`;

/**
 * The sizes the venue may report for our row: as stored, and as the adapter conforms it before sending
 * (a venue's lot step rounds a quantity down, its notional step a cash amount), so an order we placed
 * is recognised on a venue that rounds.
 */
async function expectedSizes(
  exchange: ExchangeAdapter,
  row: Order,
): Promise<{ qty: string[]; notional: string[] }> {
  const qty = row.qty !== null ? [row.qty] : [];
  const notional = row.notional !== null ? [row.notional] : [];
  if (exchange.instrumentRules) {
    try {
      const conformed = conformOrder(intentOf(row), await exchange.instrumentRules(row.symbol));
      if (conformed.qty !== undefined) qty.push(conformed.qty);
      if (conformed.notional !== undefined) notional.push(conformed.notional);
    } catch {
      // Rules unavailable, or the row would not conform: compare with the stored size only.
    }
  }
  return { qty, notional };
}

/**
 * Why `ex` (found at the venue under `row`'s client order id) is not our order, or null when it is.
 * A notional row also matches a venue order that reports only the quantity it bought (CCXT venues keep
 * no cash amount): symbol and side decide then.
 */
export async function foreignOrderReason(
  exchange: ExchangeAdapter,
  row: Order,
  ex: ExchangeOrder,
): Promise<string | null> {
  let same = ex.symbol === row.symbol && ex.side === row.side;
  if (same) {
    const sizes = await expectedSizes(exchange, row);
    if (row.qty !== null) same = ex.qty !== null && sizes.qty.some((q) => eq(q, ex.qty!));
    else if (row.notional !== null && ex.notional !== null)
      same = sizes.notional.some((n) => eq(n, ex.notional!));
  }
  if (same) return null;
  return `the venue already has a different order under client_order_id ${row.clientOrderId} (${describe(ex)}; ours: ${describe(row)})`;
}
