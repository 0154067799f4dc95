/**
 * Sweeps: planning (grids, random search, time windows) and whole sweeps on real Postgres, fanned out
 * over worker threads, with progress announced on real NATS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBarsCsv } from '../../src/backtest/csv.ts';
import { LocalDispatcher } from '../../src/backtest/dispatch.ts';
import { LocalPool } from '../../src/backtest/pool.ts';
import { runStoredBacktest } from '../../src/backtest/service.ts';
import { expandGrid, randomCombos, timeWindows } from '../../src/backtest/sweep.ts';
import { runSweep } from '../../src/backtest/sweep-service.ts';
import {
  compareBacktests,
  getBacktest,
  getBacktestSeries,
  listBacktests,
  upsertBars,
} from '../../src/db/index.ts';
import type { EventEnvelope } from '../../src/schemas/index.ts';
import { createTestNatsBus, natsUrl, useTestDatabase } from '../../src/testing/index.ts';
import { hasMarketData, marketDataDir, missingDataMessage } from '../helpers/market-data.ts';

describe('planning', () => {
  it('expands lists and stepped ranges into every combination', () => {
    expect(expandGrid({ fast: [5, 10], slow: { min: 20, max: 30, step: 5 } })).toEqual([
      { fast: 5, slow: 20 },
      { fast: 5, slow: 25 },
      { fast: 5, slow: 30 },
      { fast: 10, slow: 20 },
      { fast: 10, slow: 25 },
      { fast: 10, slow: 30 },
    ]);
    expect(expandGrid({ k: { min: 1, max: 2, step: 0.1 } })).toHaveLength(11);
    expect(expandGrid({ k: { min: 1, max: 2, step: 0.1 } }).at(-1)).toEqual({ k: 2 });
    expect(expandGrid({})).toEqual([{}]);
  });
  it('draws the same random combinations for the same seed, distinct and within bounds', () => {
    const grid = { fast: { min: 2, max: 50, integer: true }, k: { min: 1, max: 3 }, mode: ['a', 'b'] };
    const a = randomCombos(grid, 20, 7);
    expect(randomCombos(grid, 20, 7)).toEqual(a);
    expect(randomCombos(grid, 20, 8)).not.toEqual(a);
    expect(new Set(a.map((c) => JSON.stringify(c))).size).toBe(20);
    for (const c of a) {
      expect(Number.isInteger(c.fast)).toBe(true);
      expect(c.fast as number).toBeGreaterThanOrEqual(2);
      expect(c.k as number).toBeLessThanOrEqual(3);
    }
  });
  it('splits time into a hold-out or walk-forward folds by bar count', () => {
    const t = Float64Array.from({ length: 100 }, (_, i) => i);
    expect(timeWindows({ type: 'holdout', fraction: 0.3 }, t)).toEqual([
      { fold: 0, inSample: { from: 0, to: 69 }, outOfSample: { from: 70, to: 99 } },
    ]);
    const rolling = timeWindows({ type: 'walk_forward', folds: 3, anchored: false }, t);
    expect(
      rolling.map((w) => [w.inSample.from, w.inSample.to, w.outOfSample?.from, w.outOfSample?.to]),
    ).toEqual([
      [0, 24, 25, 49],
      [25, 49, 50, 74],
      [50, 74, 75, 99],
    ]);
    const anchored = timeWindows({ type: 'walk_forward', folds: 3, anchored: true }, t);
    expect(anchored.map((w) => w.inSample.from)).toEqual([0, 0, 0]);
  });
});

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('sweeps on worker threads', () => {
  const tdb = useTestDatabase();
  let pool: LocalPool;
  beforeAll(async () => {
    for (const [file, symbol] of [
      ['nvda-1999-2014.txt', 'NVDA'],
      ['orcl-1995-2014.txt', 'ORCL'],
    ]) {
      await upsertBars(
        tdb.sql,
        parseBarsCsv(readFileSync(join(marketDataDir, file), 'utf8'), { symbol }).series[0],
      );
    }
    pool = new LocalPool(2);
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('runs strategies × symbols × grid, stores every run, ranks them, and matches stand-alone runs', async () => {
    const progress: number[] = [];
    const sweep = await runSweep(
      { sql: tdb.sql },
      {
        name: 'grid',
        strategies: [{ strategy: 'sma-crossover', grid: { fast: [5, 10], slow: [20, 30] } }],
        symbols: ['NVDA', 'ORCL'],
        sizing: { type: 'fixed_qty', qty: 100 },
        objective: 'sharpe',
      },
      { dispatcher: new LocalDispatcher(pool), onProgress: (p) => progress.push(p.done) },
    );
    expect(sweep).toMatchObject({ status: 'completed', total: 8, done: 8, failed: 0 });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const runs = (await listBacktests(tdb.sql, { sweepId: sweep.id })).items;
    expect(runs).toHaveLength(8);
    expect(new Set(runs.map((r) => `${r.symbols[0]}:${r.params.fast}/${r.params.slow}`)).size).toBe(8);
    expect(runs.every((r) => r.status === 'completed' && r.role === 'grid')).toBe(true);
    const top = Math.max(...runs.map((r) => r.sharpe ?? Number.NEGATIVE_INFINITY));
    expect(runs.find((r) => r.id === sweep.bestBacktestId)?.sharpe).toBe(top);
    // A sweep run's metrics are those of the same config run on its own.
    const one = runs.find((r) => r.symbols[0] === 'NVDA' && r.params.fast === 10 && r.params.slow === 30);
    expect(one?.endEquity).toBeCloseTo(103370.8751, 6);
    const alone = await runStoredBacktest(
      { sql: tdb.sql },
      (await getBacktest(tdb.sql, one?.id ?? 0))?.config,
    );
    expect(alone.metrics?.sharpe).toBe(one?.sharpe);
    const series = await getBacktestSeries(tdb.sql, one?.id ?? 0);
    expect(series?.sampled).toBe(true);
    expect(series?.times).toHaveLength(1000);
  });

  it('skips combinations the strategy refuses, and refuses a sweep with none valid naming the grid', async () => {
    const s = await runSweep(
      { sql: tdb.sql },
      {
        strategies: [{ strategy: 'sma-crossover', grid: { fast: [10, 40], slow: [30] } }],
        symbols: ['NVDA'],
      },
      { dispatcher: new LocalDispatcher(pool) },
    );
    expect(s.total).toBe(1);
    await expect(
      runSweep(
        { sql: tdb.sql },
        { strategies: [{ strategy: 'sma-crossover', grid: { fast: [40], slow: [30] } }], symbols: ['NVDA'] },
        { dispatcher: new LocalDispatcher(pool) },
      ),
    ).rejects.toMatchObject({
      status: 400,
      fields: { 'strategies.0.grid': expect.stringMatching(/fast must be smaller than slow/) },
    });
    await expect(
      runSweep(
        { sql: tdb.sql },
        { strategies: [{ strategy: 'nope' }], symbols: ['NVDA'] },
        { dispatcher: new LocalDispatcher(pool) },
      ),
    ).rejects.toMatchObject({ status: 400, fields: { 'strategies.0.strategy': 'unknown strategy "nope"' } });
    await expect(
      runSweep(
        { sql: tdb.sql },
        {
          strategies: [
            { strategy: 'sma-crossover', grid: { fast: { min: 2, max: 9 }, slow: { min: 10, max: 500 } } },
          ],
          symbols: ['NVDA'],
          maxRuns: 100,
        },
        { dispatcher: new LocalDispatcher(pool) },
      ),
    ).rejects.toMatchObject({ status: 400, fields: { maxRuns: '3928 runs needed' } });
  });

  it('walk-forward: chooses on each fold, tests the choice on the next', async () => {
    const sweep = await runSweep(
      { sql: tdb.sql },
      {
        strategies: [{ strategy: 'sma-crossover', grid: { fast: [5, 10, 20], slow: [30, 50] } }],
        symbols: ['NVDA'],
        search: 'grid',
        split: { type: 'walk_forward', folds: 3 },
        objective: 'totalReturn',
        sizing: { type: 'fixed_qty', qty: 100 },
      },
      { dispatcher: new LocalDispatcher(pool) },
    );
    expect(sweep).toMatchObject({ status: 'completed', total: 18 + 3, done: 21 });
    expect(sweep.folds).toHaveLength(3);
    for (const f of sweep.folds) {
      expect(f.outOfSample.from > f.inSample.to).toBe(true);
      const inSample = (
        await listBacktests(tdb.sql, { sweepId: sweep.id, role: 'in_sample', limit: 100 })
      ).items.filter((r) => r.id === f.inSampleBacktestId);
      expect(inSample).toHaveLength(1);
      const oos = await getBacktest(tdb.sql, f.outOfSampleBacktestId ?? 0);
      expect(oos).toMatchObject({ role: 'out_of_sample', params: f.bestParams, status: 'completed' });
      expect(oos?.config.from).toBe(f.outOfSample.from);
      expect(oos?.totalReturn).toBe(f.outOfSampleScore);
    }
    // Each fold's choice is the in-sample winner among that fold's six runs.
    const ids = (
      await listBacktests(tdb.sql, { sweepId: sweep.id, role: 'in_sample', limit: 100 })
    ).items.map((r) => r.id);
    const inSampleRuns = await compareBacktests(tdb.sql, ids);
    for (const f of sweep.folds) {
      const mine = inSampleRuns.filter((r) => r.config.from === f.inSample.from);
      expect(mine).toHaveLength(6);
      const top = Math.max(...mine.map((r) => r.metrics?.totalReturn ?? Number.NEGATIVE_INFINITY));
      expect(f.inSampleScore).toBe(top);
      expect(mine.find((r) => r.id === f.inSampleBacktestId)?.params).toEqual(f.bestParams);
    }
  });

  describe.skipIf(!natsUrl())('progress on real NATS', () => {
    let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
    beforeAll(async () => {
      nats = await createTestNatsBus();
    });
    afterAll(async () => {
      await nats?.drop();
    });
    it('announces backtests.progress while running, ending at done = total', async () => {
      const seen: EventEnvelope<'backtests.progress'>[] = [];
      const sub = nats.bus.subscribe('backtests.progress', (e) => {
        seen.push(e as EventEnvelope<'backtests.progress'>);
      });
      const sweep = await runSweep(
        { sql: tdb.sql, bus: async () => nats.bus },
        {
          strategies: [{ strategy: 'ema-crossover', grid: { fast: [5, 8, 12], slow: [26] } }],
          symbols: ['NVDA', 'ORCL'],
        },
        { dispatcher: new LocalDispatcher(pool) },
      );
      await expect.poll(() => seen.at(-1)?.payload.done).toBe(6);
      sub.unsubscribe();
      expect(seen.every((e) => e.payload.sweepId === sweep.id && e.payload.total === 6)).toBe(true);
    });
  });
});
