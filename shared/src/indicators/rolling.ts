/**
 * Rolling window statistics: mean and population standard deviation, maximum and minimum, each O(1)
 * per value (amortised) over typed-array ring buffers.
 */

/**
 * Mean and population variance of the last `period` values. Sums are kept relative to an anchor
 * near the data (re-chosen and rebuilt from the buffer whenever the ring wraps), so the variance of
 * prices around 3,600 with a spread of 1 keeps its digits instead of cancelling them away.
 */
export class RollingStats {
  readonly period: number;
  mean = Number.NaN;
  variance = Number.NaN;
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private anchor = Number.NaN;
  private s1 = 0;
  private s2 = 0;

  constructor(period: number) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError('period must be an integer >= 1');
    this.period = period;
    this.buf = new Float64Array(period);
  }

  push(x: number): void {
    const n = this.period;
    const buf = this.buf;
    const i = this.idx;
    if (this.count === 0) this.anchor = x;
    const d = x - this.anchor;
    if (this.count === n) {
      const o = buf[i] - this.anchor;
      this.s1 += d - o;
      this.s2 += d * d - o * o;
    } else {
      this.s1 += d;
      this.s2 += d * d;
      this.count++;
    }
    buf[i] = x;
    if (i + 1 === n) {
      this.idx = 0;
      if (this.count === n) this.rebuild();
    } else this.idx = i + 1;
    if (this.count === n) {
      const m = this.s1 / n;
      this.mean = this.anchor + m;
      const v = this.s2 / n - m * m;
      this.variance = Math.max(v, 0);
    }
  }

  /** Re-anchor at the window's mean and recompute both sums exactly from the buffer. */
  private rebuild(): void {
    const n = this.period;
    const buf = this.buf;
    let s = 0;
    for (let k = 0; k < n; k++) s += buf[k];
    const a = s / n;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0; k < n; k++) {
      const d = buf[k] - a;
      s1 += d;
      s2 += d * d;
    }
    this.anchor = a;
    this.s1 = s1;
    this.s2 = s2;
  }

  get stdDev(): number {
    return Math.sqrt(this.variance);
  }

  get ready(): boolean {
    return this.count === this.period;
  }
}

/** Population standard deviation of the last `period` values. */
export class StdDev {
  value = Number.NaN;
  private readonly stats: RollingStats;
  constructor(readonly period: number) {
    this.stats = new RollingStats(period);
  }
  push(x: number): number {
    this.stats.push(x);
    this.value = this.stats.ready ? Math.sqrt(this.stats.variance) : Number.NaN;
    return this.value;
  }
}

/**
 * Extreme (max or min) of the last `period` values with a monotonic deque: each value enters and
 * leaves the deque once, so a push is O(1) amortised. Positions and values live in two rings.
 */
class RollingExtreme {
  readonly period: number;
  value = Number.NaN;
  private readonly vals: Float64Array;
  private readonly pos: Float64Array;
  private head = 0;
  private size = 0;
  private seen = 0;
  private readonly sign: number;

  constructor(period: number, sign: 1 | -1) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError('period must be an integer >= 1');
    this.period = period;
    this.sign = sign;
    this.vals = new Float64Array(period);
    this.pos = new Float64Array(period);
  }

  push(x: number): number {
    const n = this.period;
    const key = x * this.sign;
    const at = this.seen++;
    // Drop the values the new one dominates from the back.
    while (this.size > 0) {
      const back = (this.head + this.size - 1) % n;
      if (this.vals[back] * this.sign <= key) this.size--;
      else break;
    }
    // Drop the front when it left the window.
    if (this.size > 0 && this.pos[this.head] <= at - n) {
      this.head = this.head + 1 === n ? 0 : this.head + 1;
      this.size--;
    }
    const slot = (this.head + this.size) % n;
    this.vals[slot] = x;
    this.pos[slot] = at;
    this.size++;
    this.value = this.seen >= n ? this.vals[this.head] : Number.NaN;
    return this.value;
  }

  get ready(): boolean {
    return this.seen >= this.period;
  }
}

export class RollingMax extends RollingExtreme {
  constructor(period: number) {
    super(period, 1);
  }
}

export class RollingMin extends RollingExtreme {
  constructor(period: number) {
    super(period, -1);
  }
}
