import { z } from 'zod';
import { IsoTime, Timeframe, TradingSymbol } from './common.ts';

const price = z.number().refine(Number.isFinite, { message: 'must be a finite number' }).positive();

/** One OHLCV bar. Prices are numbers: bars are observations, not balances (see money/index.ts). */
export const Bar = z
  .object({
    symbol: TradingSymbol,
    timeframe: Timeframe,
    /** Start of the bar's interval. */
    time: IsoTime,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: z.number().nonnegative(),
  })
  .superRefine((b, ctx) => {
    if (b.high < Math.max(b.open, b.close, b.low)) {
      ctx.addIssue({ code: 'custom', path: ['high'], message: 'must be >= open, close and low' });
    }
    if (b.low > Math.min(b.open, b.close)) {
      ctx.addIssue({ code: 'custom', path: ['low'], message: 'must be <= open and close' });
    }
  });
export type Bar = z.infer<typeof Bar>;
