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
import { CurveStats, type CurveSummary, type DrawdownExtremes } from './curve-stats.ts';
import { TradeLog } from './logs.ts';
import type { EngineResult } from './types.ts';

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

/** The metrics' drawdown fields from the tracked extremes. */
function drawdownInfo(x: DrawdownExtremes): DrawdownInfo {
  const found = !Number.isNaN(x.troughTime);
  const recovered = !Number.isNaN(x.recoveryTime);
  return {
    maxDrawdown: x.depth,
    maxDrawdownAmount: x.amount,
    maxDrawdownStart: found ? iso(x.peakTime) : null,
    maxDrawdownEnd: found ? iso(x.troughTime) : null,
    maxDrawdownRecovery: recovered ? iso(x.recoveryTime) : null,
    maxDrawdownDurationMs: found ? (recovered ? x.recoveryTime : x.endTime) - x.peakTime : 0,
    timeToRecoveryMs: found && recovered ? x.recoveryTime - x.troughTime : null,
    longestDrawdownMs: x.longestMs,
  };
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
  const stats = new CurveStats(start, 0).withDrawdownSeries(n, keep);
  stats.consume(equity, new Float64Array(n).fill(1), new Uint8Array(n), 0, n, times, 0);
  return { series: stats.drawdownSeries as Float64Array, info: drawdownInfo(stats.drawdownExtremes()) };
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

/** Statistics of the closed trades, taken in exit order (streaks depend on it). */
function tradeStats(log: TradeLog) {
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
  const byExit = log.closedByExit();
  const { netPnl, exitTime, entryTime, entryPrice, qty, returnPct } = log;
  for (let k = 0; k < byExit.length; k++) {
    const i = byExit[k];
    const p = netPnl[i];
    const held = exitTime[i] - entryTime[i];
    const ret = returnPct[i];
    sum += p;
    sumSq += p * p;
    hold += held;
    stake += entryPrice[i] * qty[i];
    if (p > best) best = p;
    if (p < worst) worst = p;
    if (ret > bestR) bestR = ret;
    if (ret < worstR) worstR = ret;
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

/** The per-period risk-free rate: (1 + rf)^(1/P) − 1. */
export const riskFreePerPeriod = (opts: MetricsOptions): number =>
  (1 + opts.riskFreeRate) ** (1 / opts.periodsPerYear) - 1;

/** The curve statistics of a result that holds its whole curve, in one pass. */
export function summarizeCurve(
  r: Pick<EngineResult, 'times' | 'equity' | 'benchmark' | 'exposed' | 'startEquity'>,
  riskFreePerPeriodRate: number,
): CurveSummary {
  const stats = new CurveStats(r.startEquity, riskFreePerPeriodRate);
  stats.consume(r.equity, r.benchmark, r.exposed, 0, r.equity.length, r.times, 0);
  return stats.summary();
}

/**
 * Every metric of one engine result. `curve` is the statistics the engine streamed while it ran (see
 * CurveStats); without it they are computed from the result's curve, which must then be whole.
 */
export function computeMetrics(
  r: EngineResult,
  opts: MetricsOptions,
  curve: CurveSummary | null = null,
): BacktestMetrics {
  const P = opts.periodsPerYear;
  const rfp = riskFreePerPeriod(opts);
  if (!curve || curve.riskFreePerPeriod !== rfp) {
    if (r.sampledAt) throw new Error('a sampled curve needs the statistics streamed while it ran');
    curve = summarizeCurve(r, rfp);
  }
  const c = curve;
  const n = c.points;
  const { mean, m2, m3, m4 } = c;
  const meanEquity = c.sumEquity / n;
  const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : Number.NaN;
  const popSd = Math.sqrt(m2 / n);
  const skew = m3 / n / popSd ** 3;
  const kurt = m4 / n / popSd ** 4;
  const srPeriod = (mean - rfp) / sd;
  const downside = Math.sqrt(c.downside2 / n);
  const beta = c.m2B > 0 ? c.coMoment / c.m2B : Number.NaN;
  const sdA = n > 1 ? Math.sqrt(Math.max(c.m2Active, 0) / (n - 1)) : Number.NaN;
  const meanA = c.meanActive;
  const meanB = c.meanB;
  const years = n / P;
  const growth = r.endEquity / r.startEquity;
  const cagr = n > 0 ? (growth > 0 ? growth ** (1 / years) - 1 : -1) : Number.NaN;
  const dd = drawdownInfo(c.drawdown);
  const log = r.tradeLog ?? TradeLog.of(r.trades);
  const ts = tradeStats(log);
  const spanDays = n > 0 ? (c.lastTime - c.firstTime) / DAY_MS : 0;
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
    benchmarkReturn: n > 0 ? c.lastBenchmark - 1 : 0,
    marketChange: counted ? market / counted : 0,
    minEquity: c.minEquity,
    maxEquity: c.maxEquity,
    ...dd,
    trades: ts.trades,
    openTrades: log.openCount(),
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
    bestDay: finite(c.bestDay),
    worstDay: finite(c.worstDay),
    winningDays: c.winningDays,
    losingDays: c.losingDays,
    flatDays: c.flatDays,
    exposure: n ? c.exposedPoints / n : 0,
    turnover: meanEquity > 0 ? finite(r.tradedNotional / meanEquity) : null,
    tradedVolume: r.tradedNotional,
    totalFees: r.fees,
    orders: r.orders,
    bars: n,
    periodsPerYear: P,
    riskFreeRate: opts.riskFreeRate,
  };
}
