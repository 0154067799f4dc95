/**
 * A pool of worker threads running backtests on every core. Bar data is shared once per data set
 * (SharedArrayBuffer, no copy per job); jobs are queued and handed to whichever worker is free. A
 * worker that dies fails its job and is replaced.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BarSeries } from '../bars/index.ts';
import type { BacktestConfig, BacktestMetrics, BacktestSeries, BacktestTrade } from '../schemas/backtest.ts';
import { currentStrategiesDir, type StrategyFault } from '../strategies/index.ts';
import { tradeObjects } from './logs.ts';
import { type PackedOutcome, seriesOf } from './run.ts';
import { type SharedSeries, shareSeries } from './shared-data.ts';

export interface PoolJob {
  id: number;
  dataKey: string;
  config: BacktestConfig;
  detail: 'full' | 'summary';
}

export interface PoolResult {
  metrics: BacktestMetrics;
  trades: BacktestTrade[];
  series: BacktestSeries;
  faults: StrategyFault[];
}

export type PoolMessage =
  | { type: 'init'; strategiesDir: string | null }
  | { type: 'data'; key: string; series: SharedSeries[] }
  | { type: 'drop'; key: string }
  | { type: 'job'; job: PoolJob };

export type PoolReply =
  | { type: 'done'; id: number; ok: true; result: PackedOutcome; ms: number }
  | { type: 'done'; id: number; ok: false; error: string; ms: number };

export type JobOutcome =
  | { id: number; ok: true; result: PoolResult }
  | { id: number; ok: false; error: string };

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * A worker's packed result as a PoolResult: the trade list and the series are built on first read, so
 * a caller that only ranks runs by their metrics never pays for objects it does not look at.
 */
function unpack(p: PackedOutcome): PoolResult {
  let trades: BacktestTrade[] | undefined;
  let series: BacktestSeries | undefined;
  return {
    metrics: p.metrics,
    faults: p.faults,
    get trades() {
      trades ??= tradeObjects(p.trades, p.symbols);
      return trades;
    },
    get series() {
      series ??= seriesOf(p);
      return series;
    },
  };
}

interface Slot {
  worker: Worker;
  busy: PoolJob | null;
  resolve?: (o: JobOutcome) => void;
}

export class LocalPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: { job: PoolJob; resolve: (o: JobOutcome) => void }[] = [];
  private readonly data = new Map<string, SharedSeries[]>();
  private closed = false;

  constructor(size = availableParallelism()) {
    this.size = Math.max(1, size);
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER);
    const slot: Slot = { worker, busy: null };
    worker.postMessage({ type: 'init', strategiesDir: currentStrategiesDir() } satisfies PoolMessage);
    for (const [key, series] of this.data)
      worker.postMessage({ type: 'data', key, series } satisfies PoolMessage);
    worker.on('message', (m: PoolReply) => {
      const resolve = slot.resolve;
      slot.busy = null;
      slot.resolve = undefined;
      resolve?.(
        m.ok ? { id: m.id, ok: true, result: unpack(m.result) } : { id: m.id, ok: false, error: m.error },
      );
      this.pump();
    });
    worker.on('error', (err) => this.replace(slot, `worker failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.replace(slot, `worker exited with code ${code}`);
    });
    return slot;
  }

  private replace(slot: Slot, reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    const job = slot.busy;
    const resolve = slot.resolve;
    slot.worker.removeAllListeners();
    void slot.worker.terminate();
    this.slots[i] = this.spawn();
    if (job && resolve) resolve({ id: job.id, ok: false, error: reason });
    this.pump();
  }

  /** Shares a data set with every worker (once); jobs name it by `key`. */
  load(key: string, series: readonly BarSeries[]): void {
    const shared = series.map(shareSeries);
    this.data.set(key, shared);
    for (const s of this.slots)
      s.worker.postMessage({ type: 'data', key, series: shared } satisfies PoolMessage);
  }

  unload(key: string): void {
    this.data.delete(key);
    for (const s of this.slots) s.worker.postMessage({ type: 'drop', key } satisfies PoolMessage);
  }

  run(job: PoolJob): Promise<JobOutcome> {
    if (this.closed) return Promise.resolve({ id: job.id, ok: false, error: 'the pool is closed' });
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const next = this.queue.shift() as { job: PoolJob; resolve: (o: JobOutcome) => void };
      slot.busy = next.job;
      slot.resolve = next.resolve;
      slot.worker.postMessage({ type: 'job', job: next.job } satisfies PoolMessage);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.resolve({ id: q.job.id, ok: false, error: 'the pool is closed' });
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
