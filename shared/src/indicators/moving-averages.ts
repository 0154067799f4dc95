/**
 * Moving averages over a stream: each push is O(1) (amortised) and allocates nothing. Until an
 * indicator has seen enough values its `value` is NaN, so callers never mistake a warm-up for a reading.
 */

/**
 * Simple moving average over a ring buffer. The window's sum is kept as an unevaluated pair hi + lo
 * (error-free two-sums), so it is the exact sum of the window to ~1e-32 relative, and is rebuilt from
 * the buffer each time the ring wraps (amortised O(1)) so nothing accumulates. The average is the
 * correctly rounded sum divided by the period: bit for bit what backtrader's math.fsum-based SMA gives,
 * which matters when two averages tie and a crossover depends on the sign of their difference.
 */
export class Sma {
  readonly period: number;
  value = Number.NaN;
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private hi = 0;
  private lo = 0;

  constructor(period: number) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError('period must be an integer >= 1');
    this.period = period;
    this.buf = new Float64Array(period);
  }

  push(x: number): number {
    const buf = this.buf;
    const i = this.idx;
    const full = this.count === this.period;
    // two-sum: hi + x = s + e exactly
    let hi = this.hi;
    let s = hi + x;
    let bp = s - hi;
    let lo = this.lo + (hi - (s - bp) + (x - bp));
    hi = s;
    if (full) {
      const y = -buf[i];
      s = hi + y;
      bp = s - hi;
      lo += hi - (s - bp) + (y - bp);
      hi = s;
    } else this.count++;
    buf[i] = x;
    if (i + 1 === this.period) {
      this.idx = 0;
      if (this.count === this.period) {
        hi = 0;
        lo = 0;
        for (let k = 0; k < this.period; k++) {
          const v = buf[k];
          s = hi + v;
          bp = s - hi;
          lo += hi - (s - bp) + (v - bp);
          hi = s;
        }
      }
    } else this.idx = i + 1;
    this.hi = hi;
    this.lo = lo;
    this.value = this.count === this.period ? (hi + lo) / this.period : Number.NaN;
    return this.value;
  }

  get ready(): boolean {
    return this.count === this.period;
  }
}

/**
 * Exponential moving average with smoothing `alpha`, seeded with the simple average of the first
 * `period` values (TA-Lib's, backtrader's and technicalindicators' convention).
 */
class SeededAverage {
  readonly period: number;
  value = Number.NaN;
  private readonly alpha: number;
  private count = 0;
  private seed = 0;

  constructor(period: number, alpha: number) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError('period must be an integer >= 1');
    this.period = period;
    this.alpha = alpha;
  }

  push(x: number): number {
    if (this.count >= this.period) {
      const prev = this.value;
      this.value = (x - prev) * this.alpha + prev;
    } else {
      this.seed += x;
      if (++this.count === this.period) this.value = this.seed / this.period;
    }
    return this.value;
  }

  get ready(): boolean {
    return this.count >= this.period;
  }
}

/** EMA: alpha = 2 / (period + 1), SMA-seeded. */
export class Ema extends SeededAverage {
  constructor(period: number) {
    super(period, 2 / (period + 1));
  }
}

/** Wilder's smoothing (RMA, SMMA): alpha = 1 / period, SMA-seeded. Used by RSI and ATR. */
export class Wilder extends SeededAverage {
  constructor(period: number) {
    super(period, 1 / period);
  }
}
