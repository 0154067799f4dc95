/**
 * The pipeline benchmark's strategy: buy on every 4th minute, sell two minutes later. Each order fills
 * (next bar's open) and is booked before the opposite signal arrives, so every signal becomes one order
 * and one trade, with no dependence on how fast the previous one was booked.
 */
import { BUY, defineStrategy, HOLD, SELL } from '@weaver/shared/strategies';
import { z } from 'zod';

export default defineStrategy({
  name: 'bench-alternate',
  description: 'Benchmark only: buy at minutes ≡ 0 (mod 4), sell at minutes ≡ 2 (mod 4).',
  params: z.object({}),
  warmup: () => 0,
  create: () => ({
    next(bar) {
      const m = Math.floor(bar.time / 60_000) % 4;
      return m === 0 ? BUY : m === 2 ? SELL : HOLD;
    },
  }),
});
