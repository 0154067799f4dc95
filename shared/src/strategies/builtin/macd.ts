import { z } from 'zod';
import { Cross, Macd } from '../../indicators/index.ts';
import { BUY, defineStrategy, HOLD, SELL } from '../types.ts';

export const macd = defineStrategy({
  name: 'macd',
  description: 'Buy when the MACD line crosses above its signal line; sell when it crosses below.',
  params: z
    .object({
      fast: z.number().int().min(1).max(200).default(12).describe('Fast EMA length in bars'),
      slow: z.number().int().min(2).max(500).default(26).describe('Slow EMA length in bars'),
      signal: z.number().int().min(1).max(200).default(9).describe('Signal EMA length in bars'),
    })
    .refine((p) => p.fast < p.slow, { message: 'must be smaller than slow', path: ['fast'] }),
  warmup: (p) => p.slow + p.signal,
  create(p) {
    const m = new Macd(p.fast, p.slow, p.signal);
    const cross = new Cross();
    return {
      next(bar) {
        m.push(bar.close);
        const c = cross.push(m.macd, m.signal);
        return c > 0 ? BUY : c < 0 ? SELL : HOLD;
      },
    };
  },
});
