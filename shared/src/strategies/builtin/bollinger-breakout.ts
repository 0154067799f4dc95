import { z } from 'zod';
import { Bollinger, Cross } from '../../indicators/index.ts';
import { BUY, defineStrategy, HOLD, SELL } from '../types.ts';

/** Momentum breakout: BUY when the close crosses above the upper band, SELL when it crosses back below the exit band. */
export const bollingerBreakout = defineStrategy({
  name: 'bollinger-breakout',
  description:
    'Buy when the close crosses above the upper Bollinger band; sell when it crosses below the middle (or lower) band.',
  params: z.object({
    period: z.number().int().min(2).max(500).default(20).describe('Band length in bars'),
    k: z.number().gt(0).max(10).default(2).describe('Band width in standard deviations'),
    exitBand: z.enum(['middle', 'lower']).default('middle').describe('Band whose downward cross sells'),
  }),
  warmup: (p) => p.period + 1,
  create(p) {
    const bands = new Bollinger(p.period, p.k);
    const entry = new Cross();
    const exit = new Cross();
    const useLower = p.exitBand === 'lower';
    return {
      next(bar) {
        bands.push(bar.close);
        const e = entry.push(bar.close, bands.upper);
        const x = exit.push(bar.close, useLower ? bands.lower : bands.middle);
        return e > 0 ? BUY : x < 0 ? SELL : HOLD;
      },
    };
  },
});
