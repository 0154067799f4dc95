import { z } from 'zod';
import { Id, IsoTime, Side, Slug, Timeframe, TradingSymbol } from './common.ts';
import { ExitRule } from './strategy.ts';

export const SignalStatus = z.enum(['new', 'ordered', 'skipped', 'rejected']);
export type SignalStatus = z.infer<typeof SignalStatus>;

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
  status: SignalStatus,
  statusReason: z.string().nullable(),
  createdAt: IsoTime,
});
export type Signal = z.infer<typeof Signal>;
