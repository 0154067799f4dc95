/**
 * Backtest speed, on generated bars (a seeded geometric random walk). Wall-clock figures are the
 * headline; the process's CPU time is logged beside them, because on a shared machine wall time also
 * counts the time other processes held the core.
 *
 * - backtest_bars_per_s: SMA 10/30 through the public strategy interface (the sma-crossover module's
 *   StrategyInstance.next(BarView) → Decision, guarded) in the real engine on 1,000,000 one-minute bars,
 *   on one core: `runBacktest` as a sweep run calls it (`detail: 'summary'`: every metric, the curves
 *   sampled to 1,000 points, the full trade list built as objects — about 19,000 trades), timed from
 *   the bars to the result. After three warm-up runs (the JIT), the best of seven; the median is
 *   reported beside it (backtest_median_bars_per_s).
 * - backtest_ceiling_bars_per_s: the same rules hard-coded in one plain loop (two rolling sums, the
 *   crossover, next-open fills, an equity curve) in the same rounds: what the engine's overhead is
 *   measured against (backtest_engine_to_ceiling_ratio). Both must make the same trades.
 * - sweep_1000_runs_s: a 1,000-combination SMA grid (40 fast × 25 slow) over 100,000 bars on every core
 *   (worker threads sharing the bars, pool start-up included), each run's result read as a caller that
 *   ranks the grid reads it (metrics; the trade list and curves arrive packed and are built only if read).
 *   sweep_1000_runs_with_trades_s: the same grid with every run's trade list and curves built as objects
 *   in this thread, as a sweep that stores its runs needs them.
 * - backtest_peak_rss_mb: the process's peak resident memory over all of the above (worker threads
 *   included).
 */
import { availableParallelism, loadavg } from 'node:os';
import { DEFAULT_ENGINE_CONFIG, LocalPool, type PoolJob, runBacktest } from '@weaver/shared/backtest';
import { type BarSeries, emptySeries } from '@weaver/shared/bars';
import {
  BacktestConfig,
  type BacktestConfig as BacktestConfigType,
  type BacktestMetrics,
} from '@weaver/shared/schemas';
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

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/** Runs the grid on a fresh pool; `read` is what the caller does with each finished run. */
async function sweep(
  data: BarSeries,
  jobs: PoolJob[],
  read: (r: { metrics: BacktestMetrics; trades: unknown[]; series: unknown }) => void,
): Promise<number> {
  const t = performance.now();
  const pool = new LocalPool(availableParallelism());
  try {
    pool.load('bench', [data]);
    // Each result is read as it arrives and then dropped, as a sweep that stores or ranks its runs does.
    await Promise.all(
      jobs.map(async (j) => {
        const o = await pool.run(j);
        if (!o.ok) throw new Error(`sweep run ${j.id} failed: ${o.error}`);
        read(o.result);
      }),
    );
  } finally {
    await pool.close();
  }
  return (performance.now() - t) / 1000;
}

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
    const warmups = 3;
    const rounds = quick ? 3 : 7;
    const engineMs: number[] = [];
    const ceilingMs: number[] = [];
    const engineCpu: number[] = [];
    const ceilingCpu: number[] = [];
    let trades = 0;
    for (let i = 0; i < warmups + rounds; i++) {
      let t = performance.now();
      let c = process.cpuUsage();
      const outcome = runBacktest([data], prepared, config, { detail: 'summary' });
      const cpu = cpuMs(process.cpuUsage(c));
      const ms = performance.now() - t;
      t = performance.now();
      c = process.cpuUsage();
      const plain = hardCodedSmaCross(data, 10, 30, DEFAULT_ENGINE_CONFIG.cash);
      const plainCpu = cpuMs(process.cpuUsage(c));
      const plainMs = performance.now() - t;
      // The engine's trade list counts the trade still open at the end; the plain loop counts round trips.
      const closed = outcome.trades.filter((x) => x.exitTime !== null).length;
      if (plain.trades !== outcome.metrics.trades || closed !== plain.trades) {
        throw new Error(
          `the plain loop made ${plain.trades} trades, the engine ${outcome.metrics.trades}: they must agree`,
        );
      }
      trades = outcome.trades.length;
      if (i < warmups) continue;
      engineMs.push(ms);
      engineCpu.push(cpu);
      ceilingMs.push(plainMs);
      ceilingCpu.push(plainCpu);
    }
    const perS = bars / (sorted(engineMs)[0] / 1000);
    const perSMedian = bars / (sorted(engineMs)[rounds >> 1] / 1000);
    const ceiling = bars / (sorted(ceilingMs)[0] / 1000);
    const perCpuS = bars / (sorted(engineCpu)[0] / 1000);
    const ceilingCpuS = bars / (sorted(ceilingCpu)[0] / 1000);
    log(
      `backtest: ${bars} bars, ${trades} trades, best of ${rounds} after ${warmups} warm-ups: engine ${fmt(perS)} bars/s (median ${fmt(perSMedian)}), plain loop ${fmt(ceiling)} bars/s (${((perS / ceiling) * 100).toFixed(0)}% of the ceiling); by CPU time ${fmt(perCpuS)} and ${fmt(ceilingCpuS)}; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`,
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
        const job: BacktestConfigType = { ...config, params: { fast, slow } };
        jobs.push({ id: jobs.length, dataKey: 'bench', config: job, detail: 'summary' });
      }
    }
    let best = Number.NEGATIVE_INFINITY;
    const sweepS = await sweep(sweepData, jobs, (r) => {
      best = Math.max(best, r.metrics.sharpe ?? Number.NEGATIVE_INFINITY);
    });
    let sweepTrades = 0;
    const storedS = await sweep(sweepData, jobs, (r) => {
      sweepTrades += r.trades.length;
      void r.series;
    });
    log(
      `sweep: ${jobs.length} runs × ${sweepBars} bars on ${availableParallelism()} workers in ${sweepS.toFixed(2)} s (best Sharpe ${best.toFixed(2)}); with every trade list and curve built (${fmt(sweepTrades)} trades) ${storedS.toFixed(2)} s; load average ${loadavg()[0].toFixed(1)}`,
    );
    return {
      backtest_bars_per_s: Math.round(perS),
      backtest_median_bars_per_s: Math.round(perSMedian),
      backtest_ceiling_bars_per_s: Math.round(ceiling),
      backtest_engine_to_ceiling_ratio: Math.round((perS / ceiling) * 1000) / 1000,
      backtest_cpu_bars_per_s: Math.round(perCpuS),
      backtest_ceiling_cpu_bars_per_s: Math.round(ceilingCpuS),
      sweep_1000_runs_s: Math.round(sweepS * 1000) / 1000,
      sweep_1000_runs_with_trades_s: Math.round(storedS * 1000) / 1000,
      backtest_peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  },
};

export default bench;
