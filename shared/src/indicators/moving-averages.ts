/**
 * Moving averages over a stream: each push is O(1) (amortised) and allocates nothing. Until an
 * indicator has seen enough values its `value` is NaN, so callers never mistake a warm-up for a reading.
 */

/**
 * Simple moving average over a ring buffer. The running sum is rebuilt from the buffer each time the
 * ring wraps (one extra add per value, amortised), so rounding error never accumulates beyond one
 * window: the value stays within a few ulps of the plain sum of the window however long the stream.
 */
export class Sma {
  readonly period: number;
  value = Number.NaN;
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private sum = 0;

  constructor(period: number) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError('period must be an integer >= 1');
    this.period = period;
    this.buf = new Float64Array(period);
  }

  push(x: number): number {
    const buf = this.buf;
    const i = this.idx;
    if (this.count === this.period) this.sum += x - buf[i];
    else {
      this.sum += x;
      this.count++;
    }
    buf[i] = x;
    if (i + 1 === this.period) {
      this.idx = 0;
      if (this.count === this.period) {
        let s = 0;
        for (let k = 0; k < this.period; k++) s += buf[k];
        this.sum = s;
      }
    } else this.idx = i + 1;
    this.value = this.count === this.period ? this.sum / this.period : Number.NaN;
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
