/**
 * The statistics of an equity curve, accumulated chunk by chunk while the engine produces it: return
 * moments, moments against the benchmark, levels, exposure, drawdowns and daily returns (the formulas are
 * in docs/metrics.md). A run then never needs its whole curve in memory (a sweep keeps 1,000 points),
 * and each chunk is read while it is still in the cache.
 *
 * One loop does it all. The running means (Welford/Terriberry: stable where Σx² − n·mean² would cancel)
 * wait on a division per point; in the same loop the processor fills that wait with the drawdown, level
 * and calendar work, which in loops of their own cost as much again. The state is copied into locals for
 * the loop and back after, so no number is boxed per point. Points are taken in order, one at a time,
 * whatever the chunking: the results are the same to the bit as one pass over the whole curve.
 *
 * The state starts as if the equity before the first point were the starting cash and the benchmark 1,
 * and every "not yet" is a NaN or an infinity the first point replaces, so the first point of a run takes
 * the same path as every other: a path only it took would be code the optimiser never saw run, costing a
 * deoptimisation per run.
 */
import { DAY_MS } from './calendar.ts';

/** Receives the curve in order, in chunks: points `from` … `to − 1` of the arrays. */
export interface CurveSink {
  consume(
    equity: Float64Array,
    benchmark: Float64Array,
    exposed: Uint8Array,
    from: number,
    to: number,
    /** The points' instants: point `from` is at times[timeFrom]. */
    times: Float64Array,
    timeFrom: number,
  ): void;
}

export interface DrawdownExtremes {
  /** Deepest drawdown as a positive fraction; 0 without one. */
  depth: number;
  amount: number;
  /** NaN when there was no drawdown. */
  peakTime: number;
  troughTime: number;
  /** NaN when equity never got back to the peak. */
  recoveryTime: number;
  /** Time of the last point (0 without points). */
  endTime: number;
  longestMs: number;
}

/** What the metrics need from an equity curve of n points (docs/metrics.md's notation). */
export interface CurveSummary {
  points: number;
  /** The per-period risk-free rate the downside deviation was taken against. */
  riskFreePerPeriod: number;
  firstTime: number;
  lastTime: number;
  lastBenchmark: number;
  /** Return moments: mean, M2, M3, M4 (sums of powers of deviations) and Σ min(r − rf_p, 0)². */
  mean: number;
  m2: number;
  m3: number;
  m4: number;
  downside2: number;
  /** Benchmark: mean and M2 of b, Σ (r − mean r)(b − mean b); mean and M2 of r − b. */
  meanB: number;
  m2B: number;
  coMoment: number;
  meanActive: number;
  m2Active: number;
  minEquity: number;
  maxEquity: number;
  sumEquity: number;
  exposedPoints: number;
  drawdown: DrawdownExtremes;
  bestDay: number;
  worstDay: number;
  winningDays: number;
  losingDays: number;
  flatDays: number;
}

// Slots of the state.
const N = 0; // points so far (a double: k² overflows a small integer on long runs)
const MEAN = 1;
const M2 = 2;
const M3 = 3;
const M4 = 4;
const DOWN = 5;
const MEAN_B = 6;
const M2_B = 7;
const CO = 8;
const MEAN_A = 9;
const M2_A = 10;
const PREV_E = 11;
const PREV_B = 12;
const MIN = 13;
const MAX = 14;
const SUM = 15;
const EXPOSED = 16;
const FIRST_T = 17;
const LAST_T = 18;
const PEAK = 19;
const PEAK_T = 20;
const WORST = 21;
const WORST_AMOUNT = 22;
const WORST_PEAK_T = 23;
const WORST_PEAK = 24;
const WORST_T = 25;
const UNDER_SINCE = 26;
const LONGEST = 27;
const RECOVERY_T = 28;
const AWAITING = 29;
const DAY_BASE = 30;
const DAY_END = 31;
const BEST_DAY = 32;
const WORST_DAY = 33;
const UP_DAYS = 34;
const DOWN_DAYS = 35;
const FLAT_DAYS = 36;
const LAST_BENCH = 37;
const SLOTS = 38;

/** Every statistic of the curve at once: the sink a run hands the engine. */
export class CurveStats implements CurveSink {
  private readonly s = new Float64Array(SLOTS);
  /** The drawdown series: every point (keep null) or only the kept ones; null for none. */
  private ddSeries: Float64Array | null = null;
  private keep: Int32Array | null = null;
  private kept = 0;

  constructor(
    start: number,
    private readonly rfp: number,
  ) {
    const s = this.s;
    s[PREV_E] = start;
    s[PREV_B] = 1;
    s[MIN] = start;
    s[MAX] = start;
    s[FIRST_T] = Number.NaN;
    s[PEAK] = start;
    s[PEAK_T] = Number.NaN;
    s[WORST_PEAK_T] = Number.NaN;
    s[WORST_PEAK] = start;
    s[WORST_T] = Number.NaN;
    s[UNDER_SINCE] = Number.NaN;
    s[RECOVERY_T] = Number.NaN;
    s[DAY_BASE] = start;
    s[DAY_END] = Number.NEGATIVE_INFINITY;
    s[BEST_DAY] = Number.NEGATIVE_INFINITY;
    s[WORST_DAY] = Number.POSITIVE_INFINITY;
    s[LAST_BENCH] = Number.NaN;
  }

  /** Also writes the drawdown series of a curve of `points`: every point, or only the kept ones. */
  withDrawdownSeries(points: number, keep: Int32Array | null): this {
    if (this.s[N] > 0) throw new Error('the drawdown series must be asked for before the curve');
    this.ddSeries = new Float64Array(keep ? keep.length : points);
    this.keep = keep;
    return this;
  }

  get drawdownSeries(): Float64Array | null {
    return this.ddSeries;
  }

  consume(
    equity: Float64Array,
    benchmark: Float64Array,
    exposed: Uint8Array,
    from: number,
    to: number,
    times: Float64Array,
    timeFrom: number,
  ): void {
    const s = this.s;
    const rfp = this.rfp;
    const out = this.ddSeries;
    const keep = this.keep;
    const keepAll = out !== null && keep === null;
    const keepLength = keep === null ? 0 : keep.length;
    let kept = this.kept;
    let j = s[N];
    let mean = s[MEAN];
    let m2 = s[M2];
    let m3 = s[M3];
    let m4 = s[M4];
    let down = s[DOWN];
    let meanB = s[MEAN_B];
    let varB = s[M2_B];
    let cov = s[CO];
    let meanA = s[MEAN_A];
    let varA = s[M2_A];
    let prevE = s[PREV_E];
    let prevB = s[PREV_B];
    let minE = s[MIN];
    let maxE = s[MAX];
    let sum = s[SUM];
    let exposedPoints = s[EXPOSED];
    let first = s[FIRST_T];
    let t = s[LAST_T];
    let peak = s[PEAK];
    let peakTime = s[PEAK_T];
    let worst = s[WORST];
    let worstAmount = s[WORST_AMOUNT];
    let worstPeakTime = s[WORST_PEAK_T];
    let worstPeak = s[WORST_PEAK];
    let worstTrough = s[WORST_T];
    let underSince = s[UNDER_SINCE];
    let longest = s[LONGEST];
    let recovery = s[RECOVERY_T];
    let awaiting = s[AWAITING];
    let base = s[DAY_BASE];
    let dayEnd = s[DAY_END];
    let bestDay = s[BEST_DAY];
    let worstDay = s[WORST_DAY];
    let upDays = s[UP_DAYS];
    let downDays = s[DOWN_DAYS];
    let flatDays = s[FLAT_DAYS];
    for (let q = from; q < to; q++) {
      const e = equity[q];
      const bl = benchmark[q];
      const prevPoint = prevE;
      t = times[timeFrom + (q - from)];
      // Returns and their moments; the first return is against the starting cash (prevE's start).
      const x = e / prevE - 1;
      const b = bl / prevB - 1;
      prevE = e;
      prevB = bl;
      const k = j + 1;
      const delta = x - mean;
      const dn = delta / k;
      const dn2 = dn * dn;
      const term = delta * dn * j;
      mean += dn;
      m4 += term * dn2 * (k * k - 3 * k + 3) + 6 * dn2 * m2 - 4 * dn * m3;
      m3 += term * dn * (k - 2) - 3 * dn * m2;
      m2 += term;
      const ex = x - rfp;
      if (ex < 0) down += ex * ex;
      const db = b - meanB;
      meanB += db / k;
      varB += db * (b - meanB);
      cov += delta * (b - meanB);
      const a = x - b;
      const da = a - meanA;
      meanA += da / k;
      varA += da * (a - meanA);
      // Levels and exposure (the starting cash counts for the extremes).
      if (Number.isNaN(first)) first = t;
      if (e < minE) minE = e;
      if (e > maxE) maxE = e;
      sum += e;
      exposedPoints += exposed[q];
      // Drawdown below the running peak; the starting cash is the first peak, at the first point's time.
      if (Number.isNaN(peakTime)) peakTime = t;
      if (e >= peak) {
        if (!Number.isNaN(underSince)) {
          longest = Math.max(longest, t - underSince);
          underSince = Number.NaN;
        }
        peak = e;
        peakTime = t;
      } else if (Number.isNaN(underSince)) underSince = peakTime;
      const dd = peak > 0 ? e / peak - 1 : 0;
      if (keepAll) (out as Float64Array)[j] = dd;
      else if (kept < keepLength && (keep as Int32Array)[kept] === j) (out as Float64Array)[kept++] = dd;
      if (dd < worst) {
        worst = dd;
        worstAmount = peak - e;
        worstPeakTime = peakTime;
        worstPeak = peak;
        worstTrough = t;
        // The recovery is the first point after the deepest one back at its peak.
        recovery = Number.NaN;
        awaiting = 1;
      } else if (awaiting === 1 && e >= worstPeak) {
        recovery = t;
        awaiting = 0;
      }
      // Daily returns: a point past the day's end closes the day on the point before it (the first
      // point only starts a day).
      if (t >= dayEnd) {
        if (j > 0) {
          const r = prevPoint / base - 1;
          base = prevPoint;
          if (r > bestDay) bestDay = r;
          if (r < worstDay) worstDay = r;
          if (r > 0) upDays++;
          else if (r < 0) downDays++;
          else flatDays++;
        }
        dayEnd = (Math.floor(t / DAY_MS) + 1) * DAY_MS;
      }
      j = k;
    }
    s[N] = j;
    s[MEAN] = mean;
    s[M2] = m2;
    s[M3] = m3;
    s[M4] = m4;
    s[DOWN] = down;
    s[MEAN_B] = meanB;
    s[M2_B] = varB;
    s[CO] = cov;
    s[MEAN_A] = meanA;
    s[M2_A] = varA;
    s[PREV_E] = prevE;
    s[PREV_B] = prevB;
    s[MIN] = minE;
    s[MAX] = maxE;
    s[SUM] = sum;
    s[EXPOSED] = exposedPoints;
    s[FIRST_T] = first;
    s[LAST_T] = t;
    s[PEAK] = peak;
    s[PEAK_T] = peakTime;
    s[WORST] = worst;
    s[WORST_AMOUNT] = worstAmount;
    s[WORST_PEAK_T] = worstPeakTime;
    s[WORST_PEAK] = worstPeak;
    s[WORST_T] = worstTrough;
    s[UNDER_SINCE] = underSince;
    s[LONGEST] = longest;
    s[RECOVERY_T] = recovery;
    s[AWAITING] = awaiting;
    s[DAY_BASE] = base;
    s[DAY_END] = dayEnd;
    s[BEST_DAY] = bestDay;
    s[WORST_DAY] = worstDay;
    s[UP_DAYS] = upDays;
    s[DOWN_DAYS] = downDays;
    s[FLAT_DAYS] = flatDays;
    if (to > from) s[LAST_BENCH] = benchmark[to - 1];
    this.kept = kept;
  }

  drawdownExtremes(): DrawdownExtremes {
    const s = this.s;
    const end = s[N] > 0 ? s[LAST_T] : 0;
    const underSince = s[UNDER_SINCE];
    const longest = Number.isNaN(underSince) ? s[LONGEST] : Math.max(s[LONGEST], end - underSince);
    return {
      depth: -s[WORST],
      amount: s[WORST_AMOUNT],
      peakTime: s[WORST_PEAK_T],
      troughTime: s[WORST_T],
      recoveryTime: s[RECOVERY_T],
      endTime: end,
      longestMs: longest,
    };
  }

  summary(): CurveSummary {
    const s = this.s;
    const n = s[N];
    let [bestDay, worstDay, up, down, flat] = [
      s[BEST_DAY],
      s[WORST_DAY],
      s[UP_DAYS],
      s[DOWN_DAYS],
      s[FLAT_DAYS],
    ];
    // The last day closes on the last point.
    if (n > 0) {
      const r = s[PREV_E] / s[DAY_BASE] - 1;
      if (r > bestDay) bestDay = r;
      if (r < worstDay) worstDay = r;
      if (r > 0) up++;
      else if (r < 0) down++;
      else flat++;
    }
    return {
      points: n,
      riskFreePerPeriod: this.rfp,
      firstTime: n > 0 ? s[FIRST_T] : 0,
      lastTime: n > 0 ? s[LAST_T] : 0,
      lastBenchmark: s[LAST_BENCH],
      mean: s[MEAN],
      m2: s[M2],
      m3: s[M3],
      m4: s[M4],
      downside2: s[DOWN],
      meanB: s[MEAN_B],
      m2B: s[M2_B],
      coMoment: s[CO],
      meanActive: s[MEAN_A],
      m2Active: s[M2_A],
      minEquity: s[MIN],
      maxEquity: s[MAX],
      sumEquity: s[SUM],
      exposedPoints: s[EXPOSED],
      drawdown: this.drawdownExtremes(),
      bestDay,
      worstDay,
      winningDays: up,
      losingDays: down,
      flatDays: flat,
    };
  }
}
