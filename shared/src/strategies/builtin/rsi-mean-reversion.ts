import { z } from 'zod';
import { Cross, Rsi } from '../../indicators/index.ts';
import { BUY, defineStrategy, HOLD, SELL } from '../types.ts';

/** Buys weakness, sells strength: BUY when RSI falls through `oversold`, SELL when it rises through `exit`. */
export const rsiMeanReversion = defineStrategy({
  name: 'rsi-mean-reversion',
  description:
    "Buy when Wilder's RSI falls below the oversold level; sell when it rises above the exit level.",
  params: z
    .object({
      period: z.number().int().min(2).max(200).default(14).describe('RSI length in bars'),
      oversold: z.number().min(1).max(50).default(30).describe('Buy when RSI falls below this level'),
      exit: z.number().min(50).max(99).default(70).describe('Sell when RSI rises above this level'),
    })
    .refine((p) => p.oversold < p.exit, { message: 'must be below exit', path: ['oversold'] }),
  warmup: (p) => p.period + 2,
  create(p) {
    const rsi = new Rsi(p.period);
    const down = new Cross();
    const up = new Cross();
    return {
      next(bar) {
        const r = rsi.push(bar.close);
        const intoOversold = down.push(r, p.oversold) < 0;
        const aboveExit = up.push(r, p.exit) > 0;
        return intoOversold ? BUY : aboveExit ? SELL : HOLD;
      },
    };
  },
});
