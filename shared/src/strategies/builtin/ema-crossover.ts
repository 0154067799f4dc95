import { z } from 'zod';
import { Cross, Ema } from '../../indicators/index.ts';
import { BUY, defineStrategy, HOLD, SELL } from '../types.ts';

export const emaCrossover = defineStrategy({
  name: 'ema-crossover',
  description:
    'Buy when the fast exponential moving average crosses above the slow one; sell when it crosses below.',
  params: z
    .object({
      fast: z.number().int().min(1).max(500).default(12).describe('Fast EMA length in bars'),
      slow: z.number().int().min(2).max(2000).default(26).describe('Slow EMA length in bars'),
    })
    .refine((p) => p.fast < p.slow, { message: 'must be smaller than slow', path: ['fast'] }),
  warmup: (p) => p.slow + 1,
  create(p) {
    const fast = new Ema(p.fast);
    const slow = new Ema(p.slow);
    const cross = new Cross();
    return {
      next(bar) {
        const c = cross.push(fast.push(bar.close), slow.push(bar.close));
        return c > 0 ? BUY : c < 0 ? SELL : HOLD;
      },
    };
  },
});
