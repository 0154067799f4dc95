/**
 * The pieces that keep a long backtest fast: curve statistics streamed in chunks, sampled curves, the
 * column logs of trades, the bar view over the series, ISO text of trade times, and results packed by
 * worker threads. Each must give exactly what the plain way gives.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SeriesBarView } from '../../src/backtest/bar-view.ts';
import { IsoTimes, isoTime } from '../../src/backtest/calendar.ts';
import { CurveStats } from '../../src/backtest/curve-stats.ts';
import { runEngine } from '../../src/backtest/engine.ts';
import { TradeLog } from '../../src/backtest/logs.ts';
import { computeMetrics, drawdowns } from '../../src/backtest/metrics.ts';
import { LocalPool } from '../../src/backtest/pool.ts';
import { runBacktest } from '../../src/backtest/run.ts';
import { DEFAULT_ENGINE_CONFIG, type TradeRecord } from '../../src/backtest/types.ts';
import { type BarSeries, emptySeries } from '../../src/bars/index.ts';
import { BacktestConfig } from '../../src/schemas/index.ts';
import { prepareStrategy, smaCrossover } from '../../src/strategies/index.ts';
import type { StrategyInstance } from '../../src/strategies/types.ts';

/** A seeded random walk of n one-minute bars. */
function walk(n: number, seed: number, symbol = 'X/USD'): BarSeries {
  const s = emptySeries(symbol, '1Min', n);
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  let price = 100;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = open * (1 + (rnd() - 0.5) * 0.01);
    s.time[i] = Date.UTC(2024, 0, 1) + i * 60_000;
    s.open[i] = open;
    s.close[i] = close;
    s.high[i] = Math.max(open, close) * (1 + rnd() * 0.002);
    s.low[i] = Math.min(open, close) * (1 - rnd() * 0.002);
    s.volume[i] = 1000 + i;
    price = close;
  }
  return s;
}

const cfg = { ...DEFAULT_ENGINE_CONFIG, sizing: { type: 'fixed_qty' as const, qty: 10 }, allowShort: true };

describe('streamed curve statistics', () => {
  const r = runEngine([walk(12_345, 7)], [smaCrossover.create({ fast: 5, slow: 20 })], cfg);
  const n = r.equity.length;

  it('are the same to the bit however the curve is chunked', () => {
    const whole = new CurveStats(r.startEquity, 0.0001).withDrawdownSeries(n, null);
    whole.consume(r.equity, r.benchmark, r.exposed, 0, n, r.times, 0);
    const chunked = new CurveStats(r.startEquity, 0.0001).withDrawdownSeries(n, null);
    for (let from = 0, size = 1; from < n; from += size, size = (size * 7 + 3) % 5000) {
      const to = Math.min(n, from + size);
      chunked.consume(r.equity, r.benchmark, r.exposed, from, to, r.times, from);
    }
    expect(chunked.summary()).toEqual(whole.summary());
    expect(chunked.drawdownSeries).toEqual(whole.drawdownSeries);
    expect(whole.drawdownSeries).toEqual(drawdowns(r.times, r.equity, r.startEquity).series);
  });

  it('a sampled run keeps evenly spaced points of the same curve and the same metrics', () => {
    const sampled = runEngine([walk(12_345, 7)], [smaCrossover.create({ fast: 5, slow: 20 })], cfg, null, {
      samplePoints: 100,
    });
    const at = sampled.sampledAt as Int32Array;
    expect(at).toHaveLength(100);
    expect([at[0], at[99]]).toEqual([0, n - 1]);
    expect(sampled.points).toBe(n);
    expect(Array.from(sampled.equity)).toEqual(Array.from(at, (i) => r.equity[i]));
    expect(Array.from(sampled.benchmark)).toEqual(Array.from(at, (i) => r.benchmark[i]));
    expect(Array.from(sampled.times)).toEqual(Array.from(at, (i) => r.times[i]));
    expect(sampled.endEquity).toBe(r.endEquity);
    // Without the statistics streamed while it ran, a sampled curve cannot give metrics.
    expect(() => computeMetrics(sampled, { periodsPerYear: 525_600, riskFreeRate: 0 })).toThrow(/sampled/);
  });

  it('a sweep run (summary) has the metrics of the full run', async () => {
    const prepared = await prepareStrategy('sma-crossover', { fast: 5, slow: 20 });
    const config = BacktestConfig.parse({
      strategy: 'sma-crossover',
      symbols: ['X/USD', 'Y/USD'],
      timeframe: '1Min',
      allowShort: true,
      exits: { trailingStop: 0.004 },
      riskFreeRate: 0.02,
    });
    const series = [walk(6000, 1), walk(6000, 2, 'Y/USD')];
    const full = runBacktest(series, prepared, config);
    const summary = runBacktest(series, prepared, config, { detail: 'summary' });
    expect(summary.metrics).toEqual(full.metrics);
    expect(summary.trades).toEqual(full.trades);
    expect(summary.series.sampled).toBe(true);
    expect(summary.series.equity).toHaveLength(1000);
    expect(full.series.equity).toHaveLength(6000);
  });
});

describe('trade log', () => {
  const t = (symbol: string, entryTime: number, exitTime: number | null, netPnl: number): TradeRecord => ({
    symbol,
    side: 'long',
    qty: 1,
    entryTime,
    entryPrice: 10,
    exitTime,
    exitPrice: exitTime === null ? null : 10 + netPnl,
    pnl: netPnl,
    fees: 0,
    netPnl,
    returnPct: netPnl / 10,
    exitReason: exitTime === null ? null : 'signal',
    bars: 1,
  });
  // In closing order, as the engine logs them: ties on entry and on exit across symbols.
  const closing = [t('B', 1, 5, 1), t('A', 1, 5, -1), t('C', 0, 6, 2), t('A', 5, 7, 3), t('B', 6, null, 0)];
  const log = TradeLog.of(closing);

  it('lists trades by entry time, then symbol, as a stable sort of the closing order', () => {
    const expected = [...closing].sort(
      (a, b) => a.entryTime - b.entryTime || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0),
    );
    expect(log.records()).toEqual(expected);
  });

  it('takes closed trades in exit order, ties as listed', () => {
    const listed = log.records();
    const byExit = listed
      .filter((x) => x.exitTime !== null)
      .sort((a, b) => (a.exitTime as number) - (b.exitTime as number));
    const order = Array.from(log.closedByExit(), (i) => log.symbols[log.symbol[i]] + log.entryTime[i]);
    expect(order).toEqual(byExit.map((x) => x.symbol + x.entryTime));
    expect(log.openCount()).toBe(1);
  });
});

describe('the bar a strategy sees in a backtest', () => {
  const s = walk(3, 3);
  const view = new SeriesBarView(s);
  view.moveTo(1);

  it('reads like a plain bar: keys, spread and JSON', () => {
    const plain = {
      time: s.time[1],
      open: s.open[1],
      high: s.high[1],
      low: s.low[1],
      close: s.close[1],
      volume: s.volume[1],
    };
    expect(Object.keys(view)).toEqual(Object.keys(plain));
    expect({ ...view }).toEqual(plain);
    expect(JSON.parse(JSON.stringify(view))).toEqual(plain);
    view.moveTo(2);
    expect(view.close).toBe(s.close[2]);
  });

  it('is read-only: a strategy that writes to it is disabled with the reason', () => {
    const writer: StrategyInstance = {
      next(bar) {
        (bar as { close: number }).close = 1;
        return 0;
      },
    };
    const faults: string[] = [];
    runEngine([walk(5, 4)], [writer], cfg, { strategy: 'writer', onFault: (f) => faults.push(f.reason) });
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatch(/^threw: .*close/);
  });
});

describe('ISO text of trade times', () => {
  it('is Date.prototype.toISOString, on minutes and off them, in any year', () => {
    const f = new IsoTimes();
    const times = [
      0,
      Date.UTC(2024, 1, 29, 23, 59),
      Date.UTC(2024, 1, 29, 23, 59, 30, 250),
      Date.UTC(1999, 11, 31, 0, 0, 0, 7),
      Date.UTC(2000, 0, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      -86_400_000,
      Date.UTC(812, 5, 1, 12, 30),
    ];
    for (let t = Date.UTC(2023, 11, 30); t < Date.UTC(2024, 0, 3); t += 997_000) times.push(t);
    for (const t of times) {
      expect(f.format(t), String(t)).toBe(new Date(t).toISOString());
      expect(isoTime(t), String(t)).toBe(new Date(t).toISOString());
    }
  });
});

describe('results from worker threads', () => {
  const pool = new LocalPool(1);
  afterAll(() => pool.close());

  it('move packed and read back as the same trades, series and metrics as a run in this thread', async () => {
    const series = walk(20_000, 9);
    const config = BacktestConfig.parse({
      strategy: 'sma-crossover',
      params: { fast: 8, slow: 21 },
      symbols: ['X/USD'],
      timeframe: '1Min',
    });
    pool.load('streaming', [series]);
    const o = await pool.run({ id: 1, dataKey: 'streaming', config, detail: 'summary' });
    if (!o.ok) throw new Error(o.error);
    const local = runBacktest([series], await prepareStrategy('sma-crossover', config.params), config, {
      detail: 'summary',
    });
    expect(local.trades.length).toBeGreaterThan(100);
    expect(o.result.metrics).toEqual(local.metrics);
    expect(o.result.trades).toEqual(local.trades);
    expect(o.result.series).toEqual(local.series);
    pool.unload('streaming');
  });
});
