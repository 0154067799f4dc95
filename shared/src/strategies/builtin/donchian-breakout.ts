import { z } from 'zod';
import { RollingMax, RollingMin } from '../../indicators/index.ts';
import { BUY, defineStrategy, HOLD, SELL } from '../types.ts';

/**
 * The turtle rule: BUY when the close exceeds the highest high of the previous `entry` bars, SELL when
 * it falls below the lowest low of the previous `exit` bars. The channel excludes the current bar (a
 * bar cannot break its own high). Each side fires once until the other side has fired.
 */
export const donchianBreakout = defineStrategy({
  name: 'donchian-breakout',
  description:
    'Buy when the close breaks above the highest high of the last N bars; sell when it breaks below the lowest low of the last M bars.',
  params: z.object({
    entry: z.number().int().min(2).max(500).default(20).describe('Breakout channel length in bars (N)'),
    exit: z.number().int().min(2).max(500).default(10).describe('Exit channel length in bars (M)'),
  }),
  warmup: (p) => Math.max(p.entry, p.exit) + 1,
  create(p) {
    const hi = new RollingMax(p.entry);
    const lo = new RollingMin(p.exit);
    let last = HOLD;
    return {
      next(bar) {
        // Channels of the bars before this one; this bar joins them afterwards.
        const upper = hi.value;
        const lower = lo.value;
        hi.push(bar.high);
        lo.push(bar.low);
        if (bar.close > upper && last !== BUY) {
          last = BUY;
          return BUY;
        }
        if (bar.close < lower && last !== SELL) {
          last = SELL;
          return SELL;
        }
        return HOLD;
      },
    };
  },
});
