import { z } from 'zod';
import { BUY, defineStrategy, HOLD } from '../types.ts';

/** The benchmark: buy on the first bar and never sell. */
export const buyAndHold = defineStrategy({
  name: 'buy-and-hold',
  description:
    'Buy on the first bar and hold to the end: the benchmark every other strategy is measured against.',
  params: z.object({}),
  warmup: () => 1,
  create() {
    let bought = false;
    return {
      next() {
        if (bought) return HOLD;
        bought = true;
        return BUY;
      },
    };
  },
});
