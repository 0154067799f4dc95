/**
 * Backtest speed, on generated bars (a seeded geometric random walk):
 * - backtest_bars_per_s: SMA 10/30 through the public strategy interface (the sma-crossover module,
 *   guarded, one BarView per bar) in the real engine, metrics and curves included, on one core;
 * - backtest_ceiling_bars_per_s: the same rules hard-coded in one plain loop (two rolling sums, the
 *   crossover, next-open fills, the equity curve): what the engine's overhead is measured against;
 * - sweep_1000_runs_s: a 1,000-combination SMA grid over 100,000 bars on every core (worker threads
 *   sharing the bars), pool start-up included;
 * - backtest_peak_rss_mb: the process's peak resident memory (worker threads included).
 */
import { availableParallelism, loadavg } from 'node:os';
import {
  type BacktestOutcome,
  DEFAULT_ENGINE_CONFIG,
  LocalPool,
  type PoolJob,
  runBacktest,
} from '@weaver/shared/backtest';
import { type BarSeries, emptySeries } from '@weaver/shared/bars';
import { BacktestConfig } from '@weaver/shared/schemas';
import { prepareStrategy } from '@weaver/shared/strategies';
import type { Benchmark } from '../commands/bench.ts';

/** A deterministic random walk: bars that go up and down enough to cross often. */
export function generateBars(n: number, seed = 42): BarSeries {
  const s = emptySeries('BENCH', '1Min', n);
  let x = seed >>> 0;
  const rnd = () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = Math.imul(x ^ (x >>> 15), x | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  let price = 100;
  const t0 = Date.UTC(2020, 0, 1);
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = Math.max(1, open * (1 + (rnd() - 0.5) * 0.004));
    s.time[i] = t0 + i * 60_000;
    s.open[i] = open;
    s.close[i] = close;
    s.high[i] = Math.max(open, close) * (1 + rnd() * 0.001);
    s.low[i] = Math.min(open, close) * (1 - rnd() * 0.001);
    s.volume[i] = 1000;
    price = close;
  }
  return s;
}

/** SMA 10/30 with backtrader's crossover, next-open fills of 1 unit, equity marked at every close. */
export function hardCodedSmaCross(
  s: BarSeries,
  fast: number,
  slow: number,
  cash: number,
): { equity: number; trades: number } {
  const n = s.length;
  const close = s.close;
  const open = s.open;
  const equity = new Float64Array(n);
  let sumF = 0;
  let sumS = 0;
  let last = Number.NaN;
  let pos = 0;
  let pending = 0;
  let trades = 0;
  for (let i = 0; i < n; i++) {
    if (pending !== 0) {
      cash -= pending * open[i];
      pos += pending;
      if (pending < 0) trades++;
      pending = 0;
    }
    const c = close[i];
    sumF += c;
    sumS += c;
    if (i >= fast) sumF -= close[i - fast];
    if (i >= slow) sumS -= close[i - slow];
    if (i >= slow - 1) {
      const d = sumF / fast - sumS / slow;
      if (last < 0 && d > 0 && pos === 0) pending = 1;
      else if (last > 0 && d < 0 && pos > 0) pending = -pos;
      if (d !== 0 || Number.isNaN(last)) last = d;
    }
    equity[i] = cash + pos * c;
  }
  return { equity: equity[n - 1], trades };
}

const best = (xs: number[]) => Math.min(...xs);

const bench: Benchmark = {
  name: 'backtest',
  async run({ quick, log }) {
    const bars = quick ? 200_000 : 1_000_000;
    const data = generateBars(bars);
    const prepared = await prepareStrategy('sma-crossover', { fast: 10, slow: 30 });
    const config = BacktestConfig.parse({
      strategy: 'sma-crossover',
      symbols: ['BENCH'],
      timeframe: '1Min',
      calendar: 'crypto',
    });
    // Warm both paths up (JIT), then take the best of several timed rounds on one core.
    const rounds = quick ? 3 : 5;
    let outcome: BacktestOutcome | null = null;
    for (let i = 0; i < 2; i++) {
      runBacktest([data], prepared, config, { detail: 'summary' });
      hardCodedSmaCross(data, 10, 30, DEFAULT_ENGINE_CONFIG.cash);
    }
    const engineTimes: number[] = [];
    const ceilingTimes: number[] = [];
    const engineCpu: number[] = [];
    const ceilingCpu: number[] = [];
    // Wall time is the figure; the process's CPU time is logged beside it, because on a shared machine
    // wall time also counts the time other processes held the core.
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      let c = process.cpuUsage();
      outcome = runBacktest([data], prepared, config, { detail: 'summary' });
      engineCpu.push(cpuMs(process.cpuUsage(c)));
      engineTimes.push(performance.now() - t);
      t = performance.now();
      c = process.cpuUsage();
      const plain = hardCodedSmaCross(data, 10, 30, DEFAULT_ENGINE_CONFIG.cash);
      ceilingCpu.push(cpuMs(process.cpuUsage(c)));
      ceilingTimes.push(performance.now() - t);
      if (plain.trades !== outcome.metrics.trades) {
        throw new Error(
          `the plain loop made ${plain.trades} trades, the engine ${outcome.metrics.trades}: they must agree`,
        );
      }
    }
    const perS = bars / (best(engineTimes) / 1000);
    const ceiling = bars / (best(ceilingTimes) / 1000);
    const perCpuS = bars / (best(engineCpu) / 1000);
    const ceilingCpuS = bars / (best(ceilingCpu) / 1000);
    const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
    log(
      `backtest: ${bars} bars, ${outcome?.metrics.trades} trades; engine ${fmt(perS)} bars/s, plain loop ${fmt(ceiling)} bars/s (${((perS / ceiling) * 100).toFixed(0)}% of the ceiling); by CPU time ${fmt(perCpuS)} and ${fmt(ceilingCpuS)}; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`,
    );

    // The sweep: 40 fast × 25 slow = 1,000 combinations over 100,000 bars.
    const sweepBars = quick ? 20_000 : 100_000;
    const sweepData = generateBars(sweepBars, 7);
    const fasts = Array.from({ length: 40 }, (_, i) => 2 + i);
    const slows = Array.from({ length: 25 }, (_, i) => 50 + 4 * i);
    const runs = quick ? 200 : 1000;
    const jobs: PoolJob[] = [];
    for (const fast of fasts) {
      for (const slow of slows) {
        if (jobs.length === runs) break;
        jobs.push({
          id: jobs.length,
          dataKey: 'bench',
          config: { ...config, params: { fast, slow } },
          detail: 'summary',
        });
      }
    }
    const workers = availableParallelism();
    const t = performance.now();
    const pool = new LocalPool(workers);
    let failed = 0;
    try {
      pool.load('bench', [sweepData]);
      const outcomes = await Promise.all(jobs.map((j) => pool.run(j)));
      failed = outcomes.filter((o) => !o.ok).length;
      if (failed)
        throw new Error(
          `${failed} sweep runs failed: ${(outcomes.find((o) => !o.ok) as { error: string }).error}`,
        );
    } finally {
      await pool.close();
    }
    const sweepS = (performance.now() - t) / 1000;
    log(`sweep: ${jobs.length} runs × ${sweepBars} bars on ${workers} workers in ${sweepS.toFixed(2)} s`);
    return {
      backtest_bars_per_s: Math.round(perS),
      backtest_ceiling_bars_per_s: Math.round(ceiling),
      backtest_engine_to_ceiling_ratio: Math.round((perS / ceiling) * 1000) / 1000,
      backtest_cpu_bars_per_s: Math.round(perCpuS),
      backtest_ceiling_cpu_bars_per_s: Math.round(ceilingCpuS),
      sweep_1000_runs_s: Math.round(sweepS * 1000) / 1000,
      backtest_peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  },
};

export default bench;
