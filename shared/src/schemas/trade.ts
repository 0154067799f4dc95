import { z } from 'zod';
import { DecimalString, Id, IsoTime, Side, Slug, TradingSymbol } from './common.ts';

/** One execution reported by the exchange (or derived from a change of an order's cumulative fill). */
export const Fill = z.object({
  id: Id,
  orderId: Id,
  clientOrderId: z.string(),
  /** The venue's id for the execution, or `<order>:<cumulative qty>` when the venue reports only totals. */
  exchangeFillId: z.string(),
  symbol: TradingSymbol,
  side: Side,
  qty: DecimalString,
  price: DecimalString,
  fee: DecimalString,
  filledAt: IsoTime,
});
export type Fill = z.infer<typeof Fill>;

/** A fill booked against a strategy's position: the unit of P&L. One trade per fill. */
export const Trade = z.object({
  id: Id,
  fillId: Id,
  orderId: Id,
  strategy: Slug,
  symbol: TradingSymbol,
  side: Side,
  qty: DecimalString,
  price: DecimalString,
  fee: DecimalString,
  /** P&L realised by this trade (closing part only), fees deducted. */
  realizedPnl: DecimalString,
  /** The book's position in the symbol after this trade (signed: negative is short). */
  positionAfter: DecimalString,
  executedAt: IsoTime,
});
export type Trade = z.infer<typeof Trade>;

/** A strategy's (book's) position in one symbol. qty is signed; avgPrice is the average entry price. */
export const Position = z.object({
  strategy: Slug,
  symbol: TradingSymbol,
  qty: DecimalString,
  avgPrice: DecimalString,
  realizedPnl: DecimalString,
  openedAt: IsoTime.nullable(),
  updatedAt: IsoTime,
});
export type Position = z.infer<typeof Position>;

export const Account = z.object({
  exchange: Slug,
  accountId: z.string().nullable(),
  currency: z.string().default('USD'),
  cash: DecimalString,
  equity: DecimalString,
  buyingPower: DecimalString,
  /** Equity change since the previous session's close, where the venue reports it. */
  dayPnl: DecimalString.nullable(),
  at: IsoTime,
});
export type Account = z.infer<typeof Account>;
