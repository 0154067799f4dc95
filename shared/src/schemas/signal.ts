import { z } from 'zod';
import { Id, IsoTime, Side, Slug, Timeframe, TradingSymbol } from './common.ts';
import { ExitRule } from './strategy.ts';

export const SignalStatus = z.enum(['new', 'ordered', 'skipped', 'rejected']);
export type SignalStatus = z.infer<typeof SignalStatus>;

/**
 * How a strategy wants a decision executed when not at market (the strategy interface's OrderHint):
 * stored with the signal, it is the order place-order sends. Prices are absolute.
 */
export const OrderHint = z.object({
  type: z.enum(['market', 'limit', 'stop', 'stop_limit']),
  limitPrice: z.number().positive().finite().optional(),
  stopPrice: z.number().positive().finite().optional(),
  timeInForce: z.enum(['day', 'gtc']).optional(),
});
export type OrderHint = z.infer<typeof OrderHint>;

/** A strategy's decision on one bar. Unique per strategy + symbol + timeframe + bar time. */
export const Signal = z.object({
  id: Id,
  strategy: Slug,
  symbol: TradingSymbol,
  timeframe: Timeframe,
  barTime: IsoTime,
  side: Side,
  /** Close of the bar the decision was taken on: the reference price for sizing and risk. */
  price: z.number().positive(),
  reason: z.string().max(500).nullable(),
  /**
   * Set when the signal is one of the strategy's exits (its stop-loss, take-profit or trailing stop
   * reached), not a decision of the strategy: it only closes the position, never opens or reverses one.
   */
  exit: ExitRule.nullable().optional(),
  /** The order the strategy asked for; absent or null means a market order. */
  order: OrderHint.nullable().optional(),
  status: SignalStatus,
  statusReason: z.string().nullable(),
  createdAt: IsoTime,
});
export type Signal = z.infer<typeof Signal>;
