import { z } from 'zod';
import { BUY, defineStrategy, HOLD, SELL } from '../types.ts';

/** Rolling mean over a ring buffer: O(1) per value, no re-scan of history. */
class RollingMean {
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private total = 0;
  constructor(readonly period: number) {
    this.buf = new Float64Array(period);
  }
  push(v: number): number {
    if (this.count === this.period) this.total -= this.buf[this.idx];
    else this.count++;
    this.buf[this.idx] = v;
    this.total += v;
    this.idx = (this.idx + 1) % this.period;
    return this.count === this.period ? this.total / this.period : Number.NaN;
  }
}

export const smaCrossover = defineStrategy({
  name: 'sma-crossover',
  description: 'Buy when the fast simple moving average crosses above the slow one; sell when it crosses below.',
  params: z
    .object({
      fast: z.number().int().min(1).max(500).default(10).describe('Fast SMA length in bars'),
      slow: z.number().int().min(2).max(2000).default(30).describe('Slow SMA length in bars'),
    })
    .refine((p) => p.fast < p.slow, { message: 'must be smaller than slow', path: ['fast'] }),
  warmup: (p) => p.slow + 1,
  create(p) {
    const fast = new RollingMean(p.fast);
    const slow = new RollingMean(p.slow);
    let prevDiff = Number.NaN;
    return {
      next(bar) {
        const diff = fast.push(bar.close) - slow.push(bar.close);
        const before = prevDiff;
        prevDiff = diff;
        if (Number.isNaN(before) || Number.isNaN(diff)) return HOLD;
        if (before <= 0 && diff > 0) return BUY;
        if (before >= 0 && diff < 0) return SELL;
        return HOLD;
      },
    };
  },
});
