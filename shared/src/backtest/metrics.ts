/**
 * Performance metrics of a backtest: the union of what Freqtrade and Lean report. Every formula is in
 * docs/metrics.md; the names below match it. Conventions:
 * - r_j: the simple return of equity from one point to the next; the first point's return is against
 *   the starting cash. n returns, P periods per year (from the timeframe, calendar.ts).
 * - Sample statistics (n − 1) for volatility, Sharpe, beta; a value that cannot be computed (a zero
 *   deviation, no losing trade) is null, never Infinity or NaN, so results are plain JSON.
 * - Trade statistics use closed trades and their P&L after fees.
 */

import type { BacktestMetrics, PeriodicReturns, PeriodReturn } from '../schemas/backtest.ts';
import { DAY_MS, dayLabel, dayNumber, isoTime, monthLabel, monthNumber, weekStart } from './calendar.ts';
import type { EngineResult, TradeRecord } from './types.ts';

export type { BacktestMetrics, PeriodicReturns, PeriodReturn };

export interface MetricsOptions {
  periodsPerYear: number;
  /** Annual risk-free rate (0.02 = 2%); Sharpe, Sortino, alpha and Treynor are in excess of it. */
  riskFreeRate: number;
}

export type DrawdownInfo = Pick<
  BacktestMetrics,
  | 'maxDrawdown'
  | 'maxDrawdownAmount'
  | 'maxDrawdownStart'
  | 'maxDrawdownEnd'
  | 'maxDrawdownRecovery'
  | 'maxDrawdownDurationMs'
  | 'timeToRecoveryMs'
  | 'longestDrawdownMs'
>;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const iso = isoTime;

/** Standard normal CDF, Hart's double-precision algorithm as given by West (2005). */
export function normalCdf(x: number): number {
  const z = Math.abs(x);
  let c = 0;
  if (z <= 37) {
    const e = Math.exp((-z * z) / 2);
    if (z < 7.07106781186547) {
      let n = 3.52624965998911e-2 * z + 0.700383064443688;
      n = n * z + 6.37396220353165;
      n = n * z + 33.912866078383;
      n = n * z + 112.079291497871;
      n = n * z + 221.213596169931;
      n = n * z + 220.206867912376;
      let d = 8.83883476483184e-2 * z + 1.75566716318264;
      d = d * z + 16.064177579207;
      d = d * z + 86.7807322029461;
      d = d * z + 296.564248779674;
      d = d * z + 637.333633378831;
      d = d * z + 793.826512519948;
      d = d * z + 440.413735824752;
      c = (e * n) / d;
    } else {
      let b = z + 0.65;
      b = z + 4 / b;
      b = z + 3 / b;
      b = z + 2 / b;
      b = z + 1 / b;
      c = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

/** Drawdown series (≤ 0, fraction below the running peak; the starting cash is the first peak) and its extremes. */
export function drawdowns(
  times: Float64Array,
  equity: Float64Array,
  start: number,
  /** Only these points of the series (ascending indexes): a sweep run keeps a thinned curve. */
  keep: Int32Array | null = null,
): { series: Float64Array; info: DrawdownInfo } {
  const n = equity.length;
  const series = new Float64Array(keep ? keep.length : n);
  let kept = 0;
  let peak = start;
  let peakTime = n > 0 ? times[0] : 0;
  let worst = 0;
  let worstAmount = 0;
  let worstPeakTime = Number.NaN;
  let worstPeak = start;
  let worstTrough = Number.NaN;
  let worstIndex = -1;
  let underSince = Number.NaN;
  let longest = 0;
  for (let j = 0; j < n; j++) {
    const e = equity[j];
    if (e >= peak) {
      if (!Number.isNaN(underSince)) {
        longest = Math.max(longest, times[j] - underSince);
        underSince = Number.NaN;
      }
      peak = e;
      peakTime = times[j];
    } else if (Number.isNaN(underSince)) underSince = peakTime;
    const dd = peak > 0 ? e / peak - 1 : 0;
    if (!keep) series[j] = dd;
    else if (kept < keep.length && keep[kept] === j) series[kept++] = dd;
    if (dd < worst) {
      worst = dd;
      worstAmount = peak - e;
      worstPeakTime = peakTime;
      worstPeak = peak;
      worstTrough = times[j];
      worstIndex = j;
    }
  }
  const end = n > 0 ? times[n - 1] : 0;
  if (!Number.isNaN(underSince)) longest = Math.max(longest, end - underSince);
  let recovery = Number.NaN;
  if (!Number.isNaN(worstTrough)) {
    for (let j = worstIndex + 1; j < n; j++) {
      if (equity[j] >= worstPeak) {
        recovery = times[j];
        break;
      }
    }
  }
  const found = !Number.isNaN(worstTrough);
  return {
    series,
    info: {
      maxDrawdown: -worst,
      maxDrawdownAmount: worstAmount,
      maxDrawdownStart: found ? iso(worstPeakTime) : null,
      maxDrawdownEnd: found ? iso(worstTrough) : null,
      maxDrawdownRecovery: Number.isNaN(recovery) ? null : iso(recovery),
      maxDrawdownDurationMs: found ? (Number.isNaN(recovery) ? end : recovery) - worstPeakTime : 0,
      timeToRecoveryMs: found && !Number.isNaN(recovery) ? recovery - worstTrough : null,
      longestDrawdownMs: longest,
    },
  };
}

/** Returns per day, ISO week and month: last equity of the period against the last of the one before. */
export function periodicReturns(times: Float64Array, equity: Float64Array, start: number): PeriodicReturns {
  const out: PeriodicReturns = { daily: [], weekly: [], monthly: [] };
  const n = equity.length;
  if (n === 0) return out;
  const groups: [PeriodReturn[], (day: number) => number, (key: number) => string][] = [
    [out.daily, (d) => d, dayLabel],
    [out.weekly, weekStart, dayLabel],
    [out.monthly, monthNumber, monthLabel],
  ];
  for (const [list, keyOf, label] of groups) {
    let base = start;
    let key = keyOf(dayNumber(times[0]));
    let lastDay = dayNumber(times[0]);
    for (let j = 1; j <= n; j++) {
      let next = Number.NaN;
      if (j < n) {
        const day = dayNumber(times[j]);
        // Only a change of day can change the week or month.
        if (day === lastDay) continue;
        lastDay = day;
        next = keyOf(day);
        if (next === key) continue;
      }
      const e = equity[j - 1];
      list.push({ period: label(key), return: e / base - 1 });
      base = e;
      key = next;
    }
  }
  return out;
}

/** Daily returns only, as numbers (best/worst day without building the tables). */
function dailyReturnStats(times: Float64Array, equity: Float64Array, start: number) {
  let base = start;
  let best = Number.NEGATIVE_INFINITY;
  let worst = Number.POSITIVE_INFINITY;
  let up = 0;
  let down = 0;
  let flat = 0;
  const n = equity.length;
  // The next midnight after point j: a point is a day's last when the next one is at or past it.
  let dayEnd = n > 0 ? (dayNumber(times[0]) + 1) * DAY_MS : 0;
  for (let j = 0; j < n; j++) {
    if (j + 1 < n && times[j + 1] < dayEnd) continue;
    if (j + 1 < n) dayEnd = (dayNumber(times[j + 1]) + 1) * DAY_MS;
    const r = equity[j] / base - 1;
    base = equity[j];
    if (r > best) best = r;
    if (r < worst) worst = r;
    if (r > 0) up++;
    else if (r < 0) down++;
    else flat++;
  }
  return { best: finite(best), worst: finite(worst), up, down, flat };
}

function tradeStats(closed: readonly TradeRecord[]) {
  let wins = 0;
  let losses = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let sum = 0;
  let sumSq = 0;
  let best = Number.NEGATIVE_INFINITY;
  let worst = Number.POSITIVE_INFINITY;
  let bestR = Number.NEGATIVE_INFINITY;
  let worstR = Number.POSITIVE_INFINITY;
  let streakW = 0;
  let streakL = 0;
  let maxW = 0;
  let maxL = 0;
  let hold = 0;
  let holdW = 0;
  let holdL = 0;
  let stake = 0;
  const byExit = [...closed].sort((a, b) => (a.exitTime ?? 0) - (b.exitTime ?? 0));
  for (const t of byExit) {
    const p = t.netPnl;
    const held = (t.exitTime ?? t.entryTime) - t.entryTime;
    sum += p;
    sumSq += p * p;
    hold += held;
    stake += t.entryPrice * t.qty;
    if (p > best) best = p;
    if (p < worst) worst = p;
    if (t.returnPct > bestR) bestR = t.returnPct;
    if (t.returnPct < worstR) worstR = t.returnPct;
    if (p > 0) {
      wins++;
      grossProfit += p;
      holdW += held;
      streakW++;
      streakL = 0;
    } else if (p < 0) {
      losses++;
      grossLoss += p;
      holdL += held;
      streakL++;
      streakW = 0;
    } else {
      streakW = 0;
      streakL = 0;
    }
    if (streakW > maxW) maxW = streakW;
    if (streakL > maxL) maxL = streakL;
  }
  const n = byExit.length;
  const mean = n ? sum / n : Number.NaN;
  const sd = n > 1 ? Math.sqrt(Math.max(sumSq - n * mean * mean, 0) / (n - 1)) : Number.NaN;
  const avgWin = wins ? grossProfit / wins : Number.NaN;
  const avgLoss = losses ? grossLoss / losses : Number.NaN;
  const winRate = n ? wins / n : Number.NaN;
  const ratio = wins && losses ? avgWin / -avgLoss : Number.NaN;
  return {
    trades: n,
    wins,
    losses,
    winRate: finite(winRate),
    lossRate: finite(n ? losses / n : Number.NaN),
    grossProfit,
    grossLoss,
    profitFactor: losses ? finite(grossProfit / -grossLoss) : null,
    expectancy: finite(mean),
    expectancyRatio: finite((1 + ratio) * winRate - 1),
    averageWin: finite(avgWin),
    averageLoss: finite(avgLoss),
    winLossRatio: finite(ratio),
    bestTrade: finite(best),
    worstTrade: finite(worst),
    bestTradeReturn: finite(bestR),
    worstTradeReturn: finite(worstR),
    maxConsecutiveWins: maxW,
    maxConsecutiveLosses: maxL,
    averageHoldingMs: finite(hold / n),
    averageWinnerHoldingMs: finite(holdW / wins),
    averageLoserHoldingMs: finite(holdL / losses),
    averageStake: finite(stake / n),
    sqn: sd > 0 ? finite((Math.sqrt(n) * mean) / sd) : null,
  };
}

/*
 * The statistics of the equity curve, in three small passes without arrays (Welford/Terriberry's online
 * updates: stable where Σx² − n·mean² would cancel). Small on purpose: with every accumulator in one
 * loop the compiler boxed a number per point, which cost more than the extra passes.
 */

/** [mean, M2, M3, M4, downside²] of the returns (the first point's return against `start`). */
function returnMomentsOf(equity: Float64Array, start: number, rfp: number): Float64Array {
  const n = equity.length;
  const out = new Float64Array(5);
  if (n === 0) return out;
  const x0 = equity[0] / start - 1;
  let mean = x0;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  let down = x0 < rfp ? (x0 - rfp) * (x0 - rfp) : 0;
  for (let j = 1; j < n; j++) {
    const x = equity[j] / equity[j - 1] - 1;
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
  }
  out[0] = mean;
  out[1] = m2;
  out[2] = m3;
  out[3] = m4;
  out[4] = down;
  return out;
}

/** [mean(b), M2(b), C(r, b), mean(r − b), M2(r − b)] against the benchmark index. */
function benchmarkMomentsOf(equity: Float64Array, benchmark: Float64Array, start: number): Float64Array {
  const n = equity.length;
  const out = new Float64Array(5);
  if (n === 0) return out;
  const x0 = equity[0] / start - 1;
  const b0 = benchmark[0] - 1;
  let mean = x0;
  let meanB = b0;
  let varB = 0;
  let cov = 0;
  let meanA = x0 - b0;
  let varA = 0;
  for (let j = 1; j < n; j++) {
    const x = equity[j] / equity[j - 1] - 1;
    const b = benchmark[j] / benchmark[j - 1] - 1;
    const k = j + 1;
    const delta = x - mean;
    mean += delta / k;
    const db = b - meanB;
    meanB += db / k;
    varB += db * (b - meanB);
    cov += delta * (b - meanB);
    const a = x - b;
    const da = a - meanA;
    meanA += da / k;
    varA += da * (a - meanA);
  }
  out[0] = meanB;
  out[1] = varB;
  out[2] = cov;
  out[3] = meanA;
  out[4] = varA;
  return out;
}

/** [min, max, Σ equity, points exposed] (the starting cash counts for min and max). */
function levelsOf(equity: Float64Array, exposed: Uint8Array, start: number): Float64Array {
  const n = equity.length;
  const out = Float64Array.of(start, start, 0, 0);
  let minE = out[0];
  let maxE = out[1];
  let sum = 0;
  let count = 0;
  for (let j = 0; j < n; j++) {
    const e = equity[j];
    if (e < minE) minE = e;
    if (e > maxE) maxE = e;
    sum += e;
    count += exposed[j];
  }
  out[0] = minE;
  out[1] = maxE;
  out[2] = sum;
  out[3] = count;
  return out;
}

/** Every metric of one engine result. */
export function computeMetrics(
  r: EngineResult,
  opts: MetricsOptions,
  drawdown: DrawdownInfo = drawdowns(r.times, r.equity, r.startEquity).info,
): BacktestMetrics {
  const { times, equity, benchmark } = r;
  const P = opts.periodsPerYear;
  const n = equity.length;
  const rfp = (1 + opts.riskFreeRate) ** (1 / P) - 1;
  const [mean, m2, m3, m4, down] = returnMomentsOf(equity, r.startEquity, rfp);
  const [meanB, varB, cov, meanA, varA] = benchmarkMomentsOf(equity, benchmark, r.startEquity);
  const [minE, maxE, sumEquity, exposedBars] = levelsOf(equity, r.exposed, r.startEquity);
  const meanEquity = sumEquity / n;
  const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : Number.NaN;
  const popSd = Math.sqrt(m2 / n);
  const skew = m3 / n / popSd ** 3;
  const kurt = m4 / n / popSd ** 4;
  const srPeriod = (mean - rfp) / sd;
  const downside = Math.sqrt(down / n);
  const beta = varB > 0 ? cov / varB : Number.NaN;
  const sdA = n > 1 ? Math.sqrt(Math.max(varA, 0) / (n - 1)) : Number.NaN;
  const years = n / P;
  const growth = r.endEquity / r.startEquity;
  const cagr = n > 0 ? (growth > 0 ? growth ** (1 / years) - 1 : -1) : Number.NaN;
  const dd = drawdown;
  const closed = r.trades.filter((t) => t.exitTime !== null);
  const ts = tradeStats(closed);
  const days = dailyReturnStats(times, equity, r.startEquity);
  const spanDays = n > 0 ? (times[n - 1] - times[0]) / DAY_MS : 0;
  let market = 0;
  let counted = 0;
  for (let s = 0; s < r.firstClose.length; s++) {
    if (Number.isNaN(r.firstClose[s])) continue;
    market += r.lastClose[s] / r.firstClose[s] - 1;
    counted++;
  }
  const psrDenominator = 1 - skew * srPeriod + ((kurt - 1) / 4) * srPeriod * srPeriod;
  return {
    startEquity: r.startEquity,
    endEquity: r.endEquity,
    netProfit: r.endEquity - r.startEquity,
    totalReturn: growth - 1,
    cagr: finite(cagr),
    annualVolatility: finite(sd * Math.sqrt(P)),
    annualVariance: finite(sd * sd * P),
    sharpe: sd > 0 ? finite(srPeriod * Math.sqrt(P)) : null,
    probabilisticSharpe:
      sd > 0 && n > 1 && psrDenominator > 0
        ? finite(normalCdf((srPeriod * Math.sqrt(n - 1)) / Math.sqrt(psrDenominator)))
        : null,
    sortino: downside > 0 ? finite(((mean - rfp) / downside) * Math.sqrt(P)) : null,
    calmar: dd.maxDrawdown > 0 ? finite(cagr / dd.maxDrawdown) : null,
    sqn: ts.sqn,
    informationRatio: sdA > 0 ? finite((meanA / sdA) * Math.sqrt(P)) : null,
    trackingError: finite(sdA * Math.sqrt(P)),
    treynor: beta !== 0 ? finite(((mean - rfp) * P) / beta) : null,
    alpha: finite((mean - rfp - beta * (meanB - rfp)) * P),
    beta: finite(beta),
    benchmarkReturn: n > 0 ? benchmark[n - 1] - 1 : 0,
    marketChange: counted ? market / counted : 0,
    minEquity: minE,
    maxEquity: maxE,
    ...dd,
    trades: ts.trades,
    openTrades: r.trades.length - closed.length,
    wins: ts.wins,
    losses: ts.losses,
    winRate: ts.winRate,
    lossRate: ts.lossRate,
    grossProfit: ts.grossProfit,
    grossLoss: ts.grossLoss,
    profitFactor: ts.profitFactor,
    expectancy: ts.expectancy,
    expectancyRatio: ts.expectancyRatio,
    averageWin: ts.averageWin,
    averageLoss: ts.averageLoss,
    winLossRatio: ts.winLossRatio,
    bestTrade: ts.bestTrade,
    worstTrade: ts.worstTrade,
    bestTradeReturn: ts.bestTradeReturn,
    worstTradeReturn: ts.worstTradeReturn,
    maxConsecutiveWins: ts.maxConsecutiveWins,
    maxConsecutiveLosses: ts.maxConsecutiveLosses,
    tradesPerDay: spanDays > 0 ? ts.trades / spanDays : null,
    averageHoldingMs: ts.averageHoldingMs,
    averageWinnerHoldingMs: ts.averageWinnerHoldingMs,
    averageLoserHoldingMs: ts.averageLoserHoldingMs,
    averageStake: ts.averageStake,
    bestDay: days.best,
    worstDay: days.worst,
    winningDays: days.up,
    losingDays: days.down,
    flatDays: days.flat,
    exposure: n ? exposedBars / n : 0,
    turnover: meanEquity > 0 ? finite(r.tradedNotional / meanEquity) : null,
    tradedVolume: r.tradedNotional,
    totalFees: r.fees,
    orders: r.orders,
    bars: n,
    periodsPerYear: P,
    riskFreeRate: opts.riskFreeRate,
  };
}
