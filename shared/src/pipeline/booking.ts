/**
 * Position arithmetic for one fill, exact (decimal strings). Pure: used for Weaver's books (trades and
 * positions) and by the simulated exchange for the venue's own positions, so both agree to the cent.
 */
import { abs, add, cmp, div, isNegative, isPositive, isZero, min, mul, neg, sub } from '../money/index.ts';
import type { Side } from '../schemas/index.ts';

export interface Holding {
  /** Signed: negative is short. */
  qty: string;
  /** Average entry price of the open quantity; 0 when flat. */
  avgPrice: string;
}

export interface Booked extends Holding {
  /** P&L realised by the closing part of the fill, minus the fee. */
  realized: string;
  /** True when the fill opened a position from flat or flipped its sign (the position's opening time resets). */
  opened: boolean;
}

/** Books `qty` at `price` (fee in account currency) on `side` against a holding. */
export function bookFill(h: Holding, side: Side, qty: string, price: string, fee = '0'): Booked {
  const signed = side === 'buy' ? qty : neg(qty);
  const before = h.qty;
  const after = add(before, signed);
  const sameDirection = isZero(before) || isPositive(before) === isPositive(signed);
  if (sameDirection) {
    // Opening or adding: the average is the quantity-weighted mean of the entries.
    const cost = add(mul(abs(before), h.avgPrice), mul(qty, price));
    return { qty: after, avgPrice: div(cost, abs(after)), realized: neg(fee), opened: isZero(before) };
  }
  // Reducing, closing or flipping: the closed part realises against the average entry.
  const closed = min(qty, abs(before));
  const perUnit = isPositive(before) ? sub(price, h.avgPrice) : sub(h.avgPrice, price);
  const realized = sub(mul(closed, perUnit), fee);
  if (isZero(after)) return { qty: '0', avgPrice: '0', realized, opened: false };
  const flipped = isNegative(before) !== isNegative(after);
  return { qty: after, avgPrice: flipped ? price : h.avgPrice, realized, opened: flipped };
}

/** True when a signed change moves a position towards zero without crossing it (a reducing order). */
export function reduces(position: string, signedChange: string): boolean {
  if (isZero(position) || isZero(signedChange)) return false;
  if (isPositive(position) === isPositive(signedChange)) return false;
  return cmp(abs(signedChange), abs(position)) <= 0;
}
