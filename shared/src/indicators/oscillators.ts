import { Ema, Wilder } from './moving-averages.ts';
import { RollingMax, RollingMin, RollingStats } from './rolling.ts';

/**
 * Wilder's RSI: gains and losses of consecutive values, each smoothed with Wilder's average seeded by
 * the simple mean of the first `period` changes. The first reading comes with value period + 1.
 * 100 when there was no loss in the smoothing (the conventional limit of 100 - 100 / (1 + RS)).
 */
export class Rsi {
  value = Number.NaN;
  private readonly gain: Wilder;
  private readonly loss: Wilder;
  private prev = Number.NaN;

  constructor(readonly period: number) {
    this.gain = new Wilder(period);
    this.loss = new Wilder(period);
  }

  push(x: number): number {
    const prev = this.prev;
    this.prev = x;
    if (Number.isNaN(prev)) return this.value; // first value: no change yet
    const change = x - prev;
    const g = this.gain.push(Math.max(change, 0));
    const l = this.loss.push(change > 0 ? 0 : -change);
    if (this.gain.ready) this.value = l === 0 ? 100 : 100 - 100 / (1 + g / l);
    return this.value;
  }
}

/** MACD: EMA(fast) − EMA(slow); signal = EMA(signal) of the MACD line; histogram = MACD − signal. */
export class Macd {
  macd = Number.NaN;
  signal = Number.NaN;
  histogram = Number.NaN;
  private readonly fastEma: Ema;
  private readonly slowEma: Ema;
  private readonly signalEma: Ema;

  constructor(
    readonly fast: number,
    readonly slow: number,
    readonly signalPeriod: number,
  ) {
    this.fastEma = new Ema(fast);
    this.slowEma = new Ema(slow);
    this.signalEma = new Ema(signalPeriod);
  }

  /** Returns the histogram (NaN until the signal line exists). */
  push(x: number): number {
    const f = this.fastEma.push(x);
    const s = this.slowEma.push(x);
    if (!this.slowEma.ready || !this.fastEma.ready) return Number.NaN;
    this.macd = f - s;
    this.signal = this.signalEma.push(this.macd);
    this.histogram = this.macd - this.signal;
    return this.histogram;
  }
}

/** Bollinger bands: SMA(period) ± k × population standard deviation over the same window. */
export class Bollinger {
  middle = Number.NaN;
  upper = Number.NaN;
  lower = Number.NaN;
  private readonly stats: RollingStats;

  constructor(
    readonly period: number,
    readonly k: number,
  ) {
    this.stats = new RollingStats(period);
  }

  /** Returns the middle band. */
  push(x: number): number {
    const st = this.stats;
    st.push(x);
    if (!st.ready) return Number.NaN;
    const band = this.k * Math.sqrt(st.variance);
    this.middle = st.mean;
    this.upper = st.mean + band;
    this.lower = st.mean - band;
    return this.middle;
  }
}

/** Donchian channel: highest high and lowest low of the last `period` bars (the current one included). */
export class Donchian {
  upper = Number.NaN;
  lower = Number.NaN;
  middle = Number.NaN;
  private readonly hi: RollingMax;
  private readonly lo: RollingMin;

  constructor(readonly period: number) {
    this.hi = new RollingMax(period);
    this.lo = new RollingMin(period);
  }

  push(high: number, low: number): number {
    this.upper = this.hi.push(high);
    this.lower = this.lo.push(low);
    this.middle = (this.upper + this.lower) / 2;
    return this.middle;
  }
}

/** True range: max(high − low, |high − previous close|, |low − previous close|); high − low on the first bar. */
export class TrueRange {
  value = Number.NaN;
  private prevClose = Number.NaN;

  push(high: number, low: number, close: number): number {
    const pc = this.prevClose;
    let tr = high - low;
    if (!Number.isNaN(pc)) {
      const a = Math.abs(high - pc);
      const b = Math.abs(low - pc);
      if (a > tr) tr = a;
      if (b > tr) tr = b;
    }
    this.prevClose = close;
    this.value = tr;
    return tr;
  }
}

/** Average true range: Wilder's smoothing of the true range. */
export class Atr {
  value = Number.NaN;
  private readonly tr = new TrueRange();
  private readonly avg: Wilder;

  constructor(readonly period: number) {
    this.avg = new Wilder(period);
  }

  push(high: number, low: number, close: number): number {
    this.value = this.avg.push(this.tr.push(high, low, close));
    return this.value;
  }
}

/**
 * Crossings of a over b with backtrader's rule: an up-cross is a > b now while the last non-zero
 * difference before this value was negative (touching and leaving on the same side is no cross).
 * Returns 1 (up), -1 (down) or 0; 0 while either input is NaN.
 */
export class Cross {
  private last = Number.NaN;

  push(a: number, b: number): -1 | 0 | 1 {
    const d = a - b;
    if (Number.isNaN(d)) return 0;
    const before = this.last;
    if (d !== 0 || Number.isNaN(before)) this.last = d;
    if (before < 0 && d > 0) return 1;
    if (before > 0 && d < 0) return -1;
    return 0;
  }
}
