/**
 * A backtest worker thread: holds shared bar data sets and runs the jobs the pool sends, one at a
 * time, answering each with its metrics, trades and curves (or the error), packed in typed arrays that
 * move to the pool without a copy; the pool builds objects only from what its caller reads.
 */
import { parentPort } from 'node:worker_threads';
import type { BarSeries } from '../bars/index.ts';
import { prepareStrategy, setStrategiesDir } from '../strategies/index.ts';
import type { PoolMessage, PoolReply } from './pool.ts';
import { movable, runBacktestPacked } from './run.ts';
import { viewSeries } from './shared-data.ts';

if (!parentPort) throw new Error('worker.ts runs inside a worker thread');
const port = parentPort;
const data = new Map<string, Map<string, BarSeries>>();

port.on('message', async (m: PoolMessage) => {
  if (m.type === 'init') {
    setStrategiesDir(m.strategiesDir);
    return;
  }
  if (m.type === 'data') {
    data.set(m.key, new Map(m.series.map((s) => [s.symbol, viewSeries(s)])));
    return;
  }
  if (m.type === 'drop') {
    data.delete(m.key);
    return;
  }
  const started = performance.now();
  let reply: PoolReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const set = data.get(m.job.dataKey);
    if (!set) throw new Error(`data set ${m.job.dataKey} was not loaded`);
    const series = m.job.config.symbols.map((sym) => {
      const s = set.get(sym);
      if (!s) throw new Error(`no bars for ${sym} in data set ${m.job.dataKey}`);
      return s;
    });
    const prepared = await prepareStrategy(m.job.config.strategy, m.job.config.params);
    const moved = movable(runBacktestPacked(series, prepared, m.job.config, { detail: m.job.detail }));
    transfer = moved.transfer;
    reply = { type: 'done', id: m.job.id, ok: true, result: moved.packed, ms: performance.now() - started };
  } catch (err) {
    reply = {
      type: 'done',
      id: m.job.id,
      ok: false,
      error: err instanceof Error ? err.message : String(err),
      ms: 0,
    };
  }
  // The result's numbers are moved, not copied: the worker does not need them any more.
  port.postMessage(reply, transfer);
});
