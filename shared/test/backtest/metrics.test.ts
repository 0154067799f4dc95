/**
 * Each metric on a five-point series computed by hand (the arithmetic is in the comments; docs/metrics.md
 * has the formulas). Start 100; equity 110, 99, 108.9, 119.79, 113.8005 → returns .1 −.1 .1 .1 −.05.
 */
import { describe, expect, it } from 'vitest';
import { periodsPerYear } from '../../src/backtest/calendar.ts';
import { computeMetrics, drawdowns, normalCdf, periodicReturns } from '../../src/backtest/metrics.ts';
import type { EngineResult, TradeRecord } from '../../src/backtest/types.ts';

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
// 2024-01-01 is a Monday: three points in one ISO week, one in the next, one in February.
const times = Float64Array.from(
  ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-08', '2024-02-01'].map(day),
);
const equity = Float64Array.from([110, 99, 108.9, 119.79, 113.8005]);
// Benchmark returns .05 −.05 .05 .05 −.05.
const benchmark = Float64Array.from([
  1.05,
  1.05 * 0.95,
  1.05 * 0.95 * 1.05,
  1.05 * 0.95 * 1.05 * 1.05,
  1.05 * 0.95 * 1.05 * 1.05 * 0.95,
]);

function trade(netPnl: number, entry: string, exit: string | null, entryPrice = 10, qty = 2): TradeRecord {
  return {
    symbol: 'AAA',
    side: 'long',
    qty,
    entryTime: day(entry),
    entryPrice,
    exitTime: exit ? day(exit) : null,
    exitPrice: exit ? entryPrice + netPnl / qty : null,
    pnl: netPnl,
    fees: 0,
    netPnl,
    returnPct: netPnl / (entryPrice * qty),
    exitReason: exit ? 'signal' : null,
    bars: 1,
  };
}

// Closed trades in exit order: +10 (1 day), +20 (3 days), 0 (1 day), −5 (2 days), −5 (1 day); one open.
const trades = [
  trade(10, '2024-01-01', '2024-01-02'),
  trade(20, '2024-01-02', '2024-01-05', 20, 5),
  trade(0, '2024-01-08', '2024-01-09'),
  trade(-5, '2024-01-09', '2024-01-11'),
  trade(-5, '2024-01-20', '2024-01-21'),
  trade(7, '2024-01-30', null),
];

const result: EngineResult = {
  symbols: ['AAA', 'BBB'],
  times,
  equity,
  benchmark,
  exposed: Uint8Array.from([1, 1, 0, 1, 0]),
  startEquity: 100,
  endEquity: 113.8005,
  trades,
  fills: [],
  decisions: [],
  orders: { submitted: 12, filled: 11, rejected: 1, expired: 0, canceled: 0 },
  fees: 3,
  tradedNotional: 500,
  firstClose: Float64Array.from([10, 20]),
  lastClose: Float64Array.from([12, 15]),
  barsProcessed: 5,
};

const P = 252;
const m = computeMetrics(result, { periodsPerYear: P, riskFreeRate: 0 });

describe('return metrics', () => {
  it('equity, profit, total return, CAGR', () => {
    expect(m.startEquity).toBe(100);
    expect(m.endEquity).toBe(113.8005);
    expect(m.netProfit).toBeCloseTo(13.8005, 10);
    expect(m.totalReturn).toBeCloseTo(0.138005, 12);
    // 5 bars = 5/252 years: 1.138005^(252/5) − 1
    expect(m.cagr).toBeCloseTo(1.138005 ** (252 / 5) - 1, 6);
  });
  it('volatility, variance, Sharpe, Sortino', () => {
    // mean .03; deviations .07 −.13 .07 .07 −.08; Σd² = .038; sample variance .0095; sd .0974679
    expect(m.annualVariance).toBeCloseTo(0.0095 * 252, 9);
    expect(m.annualVolatility).toBeCloseTo(Math.sqrt(0.0095) * Math.sqrt(252), 9);
    expect(m.sharpe).toBeCloseTo((0.03 / Math.sqrt(0.0095)) * Math.sqrt(252), 9); // 4.88607
    // downside deviation: √((.1² + .05²) / 5) = √.0025 = .05
    expect(m.sortino).toBeCloseTo((0.03 / 0.05) * Math.sqrt(252), 9); // 9.5247
  });
  it('probabilistic Sharpe (Bailey & López de Prado, against 0)', () => {
    // SR = .03/.0974679 = .307794; population sd √(.038/5); skew −.507130, kurtosis 1.380194
    const sr = 0.03 / Math.sqrt(0.0095);
    const popSd = Math.sqrt(0.038 / 5);
    const skew = (0.07 ** 3 * 3 + (-0.13) ** 3 + (-0.08) ** 3) / 5 / popSd ** 3;
    const kurt = (0.07 ** 4 * 3 + 0.13 ** 4 + 0.08 ** 4) / 5 / popSd ** 4;
    expect(skew).toBeCloseTo(-0.50713, 5);
    expect(kurt).toBeCloseTo(1.380194, 5);
    const z = (sr * Math.sqrt(4)) / Math.sqrt(1 - skew * sr + ((kurt - 1) / 4) * sr * sr);
    expect(m.probabilisticSharpe).toBeCloseTo(normalCdf(z), 12);
    expect(m.probabilisticSharpe).toBeCloseTo(0.715765223554233, 9);
  });
  it('beta, alpha, information ratio, tracking error, Treynor against the benchmark', () => {
    // benchmark mean .01; cov = Σ(dr·db)/4 = .021/4; var_b = .012/4 → β = 1.75
    expect(m.beta).toBeCloseTo(1.75, 12);
    // α = (.03 − 1.75 × .01) × 252 = 3.15
    expect(m.alpha).toBeCloseTo(3.15, 10);
    // active returns .05 −.05 .05 .05 0: mean .02, sample sd √(.008/4)
    expect(m.trackingError).toBeCloseTo(Math.sqrt(0.002) * Math.sqrt(252), 10);
    expect(m.informationRatio).toBeCloseTo((0.02 / Math.sqrt(0.002)) * Math.sqrt(252), 9);
    // Treynor = .03 × 252 / 1.75 = 4.32
    expect(m.treynor).toBeCloseTo(4.32, 10);
    expect(m.benchmarkReturn).toBeCloseTo(1.05 ** 3 * 0.95 ** 2 - 1, 12);
    // market change: (12/10 − 1 + 15/20 − 1) / 2 = −.025
    expect(m.marketChange).toBeCloseTo(-0.025, 12);
  });
  it('risk-free rate is taken out per period', () => {
    const rf = computeMetrics(result, { periodsPerYear: P, riskFreeRate: 0.05 });
    const rfp = 1.05 ** (1 / 252) - 1;
    expect(rf.sharpe).toBeCloseTo(((0.03 - rfp) / Math.sqrt(0.0095)) * Math.sqrt(252), 9);
  });
});

describe('drawdown', () => {
  it('depth, amount, start, end, recovery, durations', () => {
    // Peak 110 (01-01) → trough 99 (01-02): −10%, 11; back above 110 on 01-08.
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(m.maxDrawdownAmount).toBeCloseTo(11, 12);
    expect(m.maxDrawdownStart).toBe('2024-01-01T00:00:00.000Z');
    expect(m.maxDrawdownEnd).toBe('2024-01-02T00:00:00.000Z');
    expect(m.maxDrawdownRecovery).toBe('2024-01-08T00:00:00.000Z');
    expect(m.maxDrawdownDurationMs).toBe(7 * 86_400_000);
    expect(m.timeToRecoveryMs).toBe(6 * 86_400_000);
    // The −5% from 01-08 never recovers: 24 days to the end, the longest stretch under water.
    expect(m.longestDrawdownMs).toBe(24 * 86_400_000);
    expect(m.calmar).toBeCloseTo((1.138005 ** (252 / 5) - 1) / 0.1, 4);
    const full = drawdowns(times, equity, 100).series;
    expect(Array.from(full)).toEqual([
      0,
      expect.closeTo(-0.1, 12),
      expect.closeTo(-0.01, 12),
      0,
      expect.closeTo(-0.05, 12),
    ]);
    // A thinned curve is the full one at the kept points.
    expect(Array.from(drawdowns(times, equity, 100, Int32Array.from([1, 4])).series)).toEqual([
      full[1],
      full[4],
    ]);
    expect(m.minEquity).toBe(99);
    expect(m.maxEquity).toBe(119.79);
  });
});

describe('trade metrics', () => {
  it('counts and rates', () => {
    expect(m.trades).toBe(5);
    expect(m.openTrades).toBe(1);
    expect(m.wins).toBe(2);
    expect(m.losses).toBe(2);
    expect(m.winRate).toBeCloseTo(0.4, 12);
    expect(m.lossRate).toBeCloseTo(0.4, 12);
  });
  it('profit factor, expectancy, averages and their ratio, best and worst', () => {
    expect(m.grossProfit).toBe(30);
    expect(m.grossLoss).toBe(-10);
    expect(m.profitFactor).toBe(3);
    expect(m.expectancy).toBe(4); // (10 + 20 + 0 − 5 − 5) / 5
    expect(m.averageWin).toBe(15);
    expect(m.averageLoss).toBe(-5);
    expect(m.winLossRatio).toBe(3);
    expect(m.expectancyRatio).toBeCloseTo((1 + 3) * 0.4 - 1, 12); // .6
    expect(m.bestTrade).toBe(20);
    expect(m.worstTrade).toBe(-5);
    expect(m.bestTradeReturn).toBeCloseTo(0.5, 12); // +10 on 10 × 2
    expect(m.worstTradeReturn).toBeCloseTo(-0.25, 12); // −5 on 10 × 2
  });
  it('streaks, SQN, holding times, trades per day, stake', () => {
    // W W 0 L L: a flat trade breaks a streak
    expect(m.maxConsecutiveWins).toBe(2);
    expect(m.maxConsecutiveLosses).toBe(2);
    // mean 4, sample sd √(470/4): SQN = √5 × 4 / 10.8397 = .825137
    expect(m.sqn).toBeCloseTo(0.8251369970070347, 12);
    const D = 86_400_000;
    expect(m.averageHoldingMs).toBe(((1 + 3 + 1 + 2 + 1) / 5) * D);
    expect(m.averageWinnerHoldingMs).toBe(2 * D);
    expect(m.averageLoserHoldingMs).toBe(1.5 * D);
    expect(m.tradesPerDay).toBeCloseTo(5 / 31, 12);
    expect(m.averageStake).toBeCloseTo((20 * 4 + 100) / 5, 12);
  });
});

describe('portfolio and calendar metrics', () => {
  it('exposure, turnover, fees, best/worst day', () => {
    expect(m.exposure).toBeCloseTo(0.6, 12);
    const meanEquity = (110 + 99 + 108.9 + 119.79 + 113.8005) / 5;
    expect(m.turnover).toBeCloseTo(500 / meanEquity, 12);
    expect(m.totalFees).toBe(3);
    expect(m.tradedVolume).toBe(500);
    expect(m.bestDay).toBeCloseTo(0.1, 12);
    expect(m.worstDay).toBeCloseTo(-0.1, 12);
    expect([m.winningDays, m.losingDays, m.flatDays]).toEqual([3, 2, 0]);
    expect(m.orders.rejected).toBe(1);
  });
  it('daily, weekly (ISO, Monday) and monthly returns', () => {
    const p = periodicReturns(times, equity, 100);
    expect(p.daily.map((x) => x.period)).toEqual([
      '2024-01-01',
      '2024-01-02',
      '2024-01-03',
      '2024-01-08',
      '2024-02-01',
    ]);
    expect(p.daily[1].return).toBeCloseTo(-0.1, 12);
    expect(p.weekly.map((x) => x.period)).toEqual(['2024-01-01', '2024-01-08', '2024-01-29']);
    expect(p.weekly.map((x) => x.return)).toEqual([
      expect.closeTo(0.089, 12), // 108.9 / 100
      expect.closeTo(0.1, 12), // 119.79 / 108.9
      expect.closeTo(-0.05, 12), // 113.8005 / 119.79
    ]);
    expect(p.monthly).toEqual([
      { period: '2024-01', return: expect.closeTo(0.1979, 12) },
      { period: '2024-02', return: expect.closeTo(-0.05, 12) },
    ]);
  });
  it('annualisation follows the timeframe', () => {
    expect(periodsPerYear('1Day', 'stocks')).toBe(252);
    expect(periodsPerYear('1Day', 'crypto')).toBe(365);
    expect(periodsPerYear('1Hour', 'stocks')).toBe(1638); // 252 sessions × 6.5 hours
    expect(periodsPerYear('5Min', 'stocks')).toBe(19_656); // 252 × 78
    expect(periodsPerYear('1Min', 'crypto')).toBe(525_600);
    expect(periodsPerYear('1Week', 'stocks')).toBe(52);
    const hourly = computeMetrics(result, { periodsPerYear: 1638, riskFreeRate: 0 });
    expect(hourly.sharpe).toBeCloseTo((0.03 / Math.sqrt(0.0095)) * Math.sqrt(1638), 9);
  });
  it('normal CDF to double precision', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
    expect(Math.abs(normalCdf(-8) / 6.22096057427178e-16 - 1)).toBeLessThan(1e-7);
  });
  it('undefined values are null, not Infinity', () => {
    const flat = computeMetrics(
      { ...result, equity: Float64Array.from([100, 100, 100, 100, 100]), endEquity: 100, trades: [] },
      { periodsPerYear: P, riskFreeRate: 0 },
    );
    expect(flat.sharpe).toBeNull();
    expect(flat.sortino).toBeNull();
    expect(flat.profitFactor).toBeNull();
    expect(flat.calmar).toBeNull();
    for (const [key, v] of Object.entries(flat)) {
      if (typeof v === 'number') expect(Number.isFinite(v), key).toBe(true);
    }
  });
});
