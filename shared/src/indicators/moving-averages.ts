/**
 * Moving averages over a stream: each push is O(1) (amortised) and allocates nothing. Until an
 * indicator has seen enough values its `value` is NaN, so callers never mistake a warm-up for a reading.
 */

/**
 * The correctly rounded sum of `xs[0..n)` (Shewchuk's exact partials, as Python's math.fsum): used when
 * the last bit matters, e.g. two averages that may tie.
 */
export function exactSum(xs: ArrayLike<number>, n = xs.length): number {
  const partials: number[] = [];
  for (let k = 0; k < n; k++) {
    let x = xs[k];
    let i = 0;
    for (let j = 0; j < partials.length; j++) {
      let y = partials[j];
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  let m = partials.length;
  if (m === 0) return 0;
  let hi = partials[--m];
  let lo = 0;
  while (m > 0) {
    const x = hi;
    const y = partials[--m];
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  // Round half-even across the remaining partials, as fsum does.
  if (m > 0 && ((lo < 0 && partials[m - 1] < 0) || (lo > 0 && partials[m - 1] > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

/**
 * Simple moving average over a ring buffer: a running sum, rebuilt from the buffer each time the ring
 * wraps (one extra add per value, amortised), so rounding error never builds up beyond one window.
 * `exact()` gives the correctly rounded mean of the window (backtrader's math.fsum-based SMA, bit for
 * bit) for the rare moment it matters: deciding which of two nearly equal averages is above.
 */
export class Sma {
  readonly period: number;
  value = Number.NaN;
  private readonly buf: Float64Array;
  private idx = 0;
  /** 1 once the window is full (a number: a boolean field is tested as any value, on every push). */
  private full = 0;
  private sum = 0;

  constructor(period: number) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError('period must be an integer >= 1');
    this.period = period;
    this.buf = new Float64Array(period);
  }

  push(x: number): number {
    const buf = this.buf;
    const i = this.idx;
    // The buffer starts as zeros, so until it is full this adds x itself (x − 0 is x): no branch.
    this.sum += x - buf[i];
    buf[i] = x;
    if (i + 1 < this.period) this.idx = i + 1;
    else this.wrap();
    const v = this.full !== 0 ? this.sum / this.period : Number.NaN;
    this.value = v;
    return v;
  }

  /**
   * Once per `period` values (kept out of push so push stays small enough to be inlined into a
   * strategy's hot loop): back to the start of the ring, and the running sum rebuilt from it.
   */
  private wrap(): void {
    this.idx = 0;
    this.full = 1;
    const buf = this.buf;
    let s = 0;
    for (let k = 0; k < buf.length; k++) s += buf[k];
    this.sum = s;
  }

  /** The correctly rounded mean of the window (O(period)); NaN until ready. */
  exact(): number {
    return this.full !== 0 ? exactSum(this.buf) / this.period : Number.NaN;
  }

  get ready(): boolean {
    return this.full !== 0;
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
