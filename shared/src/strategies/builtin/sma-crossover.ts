import { z } from 'zod';
import { Cross, Sma } from '../../indicators/index.ts';
import { BUY, defineStrategy, HOLD, SELL } from '../types.ts';

/**
 * backtrader's SMA crossover: BUY on the bar where SMA(fast) crosses above SMA(slow), SELL where it
 * crosses below, with backtrader's CrossOver rule (the previous non-zero difference must have had the
 * other sign, so a touch is no cross). With 100 shares and next-open fills this reproduces backtrader's
 * trades on ../shared/reference/backtrader_sma_10_30_nvda.json.
 */
export const smaCrossover = defineStrategy({
  name: 'sma-crossover',
  description:
    'Buy when the fast simple moving average crosses above the slow one; sell when it crosses below.',
  params: z
    .object({
      fast: z.number().int().min(1).max(500).default(10).describe('Fast SMA length in bars'),
      slow: z.number().int().min(2).max(2000).default(30).describe('Slow SMA length in bars'),
    })
    .refine((p) => p.fast < p.slow, { message: 'must be smaller than slow', path: ['fast'] }),
  warmup: (p) => p.slow + 1,
  create(p) {
    const fast = new Sma(p.fast);
    const slow = new Sma(p.slow);
    const cross = new Cross();
    return {
      next(bar) {
        const close = bar.close;
        const f = fast.push(close);
        const s = slow.push(close);
        // Running sums are a few ulps off exact; when the averages are that close, the sign of their
        // difference (and so the crossing) is decided on the exactly rounded averages, as backtrader does.
        const near = Math.abs(f - s) <= 1e-12 * Math.abs(s);
        const c = near ? cross.push(fast.exact(), slow.exact()) : cross.push(f, s);
        return c > 0 ? BUY : c < 0 ? SELL : HOLD;
      },
    };
  },
});
