import {
  BacktestComparison,
  BacktestPage,
  BacktestResult,
  BacktestSummary,
  BacktestTradePage,
  SweepDetail,
  SweepPage,
  SweepSummary,
} from '@weaver/shared/schemas';
import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from './harness.ts';

const h = useGateway();
type ErrorAnswer = { error: { code: string; message: string; fields: Record<string, string> } };

/** 400 minute bars of a wave, so an SMA crossover trades several times. */
beforeAll(async () => {
  await h.sql`
    INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume)
    SELECT 'WAVE', '1Min', timestamptz '2025-01-06 14:30Z' + g * interval '1 minute',
           100 + 10 * sin(g / 15.0), 100 + 10 * sin(g / 15.0) + 0.5, 100 + 10 * sin(g / 15.0) - 0.5,
           100 + 10 * sin((g + 0.5) / 15.0), 1000
    FROM generate_series(0, 399) AS g`;
});

async function until<T>(what: string, f: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const config = {
  strategy: 'sma-crossover',
  params: { fast: 5, slow: 20 },
  symbols: ['WAVE'],
  timeframe: '1Min',
};

describe('backtests', () => {
  let first: number;

  it('queues a backtest, runs it asynchronously and serves metrics, curves and trades', async () => {
    const created = await h.json<BacktestSummary>('/api/backtests', { method: 'POST', json: config });
    expect(created.status).toBe(202);
    const summary = BacktestSummary.parse(created.body);
    expect(['queued', 'running', 'completed']).toContain(summary.status);
    first = summary.id;

    const done = await until('the backtest', async () => {
      const r = BacktestResult.parse((await h.json(`/api/backtests/${first}`)).body);
      return r.status === 'completed' || r.status === 'failed' ? r : null;
    });
    expect(done.status).toBe('completed');
    expect(done.metrics?.trades).toBeGreaterThan(0);
    expect(done.series?.equity.length).toBe(done.series?.times.length);
    expect(done.series?.drawdown.length).toBe(done.series?.times.length);
    expect(done.trades.items.length).toBeGreaterThan(0);
    expect(done.trades.items[0]).toMatchObject({ seq: 1, symbol: 'WAVE' });

    const page = BacktestTradePage.parse((await h.json(`/api/backtests/${first}/trades?limit=1`)).body);
    expect(page.items).toHaveLength(1);
    const next = BacktestTradePage.parse(
      (await h.json(`/api/backtests/${first}/trades?limit=1&afterSeq=${page.nextSeq}`)).body,
    );
    expect(next.items[0].seq).toBe(2);

    const [event] = await h.sql`SELECT payload FROM events WHERE type = 'backtests.completed'`;
    expect(event.payload).toMatchObject({ backtestId: first, status: 'completed' });
  });

  it('refuses bad requests before anything is stored', async () => {
    const before = (await h.sql`SELECT count(*)::int AS n FROM backtests`)[0].n;
    const cases: [unknown, number, string][] = [
      [{ ...config, strategy: 'no-such' }, 400, 'strategy'],
      [{ ...config, params: { fast: 50, slow: 20 } }, 400, 'params.fast'],
      [{ ...config, symbols: [] }, 400, 'symbols'],
      [{ ...config, cash: -5 }, 400, 'cash'],
      [{ ...config, from: '2025-02-01', to: '2025-01-01' }, 400, 'to'],
    ];
    for (const [body, status, field] of cases) {
      const r = await h.json<ErrorAnswer>('/api/backtests', { method: 'POST', json: body });
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(Object.keys(r.body.error.fields), JSON.stringify(body)).toContain(field);
    }
    const noBars = await h.json<ErrorAnswer>('/api/backtests', {
      method: 'POST',
      json: { ...config, symbols: ['EMPTY'] },
    });
    expect(noBars.status).toBe(422);
    expect((await h.sql`SELECT count(*)::int AS n FROM backtests`)[0].n).toBe(before);
  });

  it('runs a sweep asynchronously, lists its runs and compares them', async () => {
    const started = await h.json<SweepSummary>('/api/backtests/sweeps', {
      method: 'POST',
      json: {
        timeframe: '1Min',
        symbols: ['WAVE'],
        strategies: [{ strategy: 'sma-crossover', grid: { fast: [3, 5], slow: [15, 25] } }],
        objective: 'netProfit',
      },
    });
    expect(started.status).toBe(202);
    const sweep = SweepSummary.parse(started.body);
    expect(sweep.total).toBe(4);
    const finished = await until('the sweep', async () => {
      const s = SweepDetail.parse((await h.json(`/api/backtests/sweeps/${sweep.id}`)).body);
      return s.status === 'completed' || s.status === 'failed' ? s : null;
    });
    expect(finished).toMatchObject({ status: 'completed', done: 4, failed: 0 });
    expect(finished.bestBacktestId).not.toBeNull();

    const runs = BacktestPage.parse((await h.json(`/api/backtests?sweepId=${sweep.id}&limit=2`)).body);
    expect(runs.items).toHaveLength(2);
    const rest = BacktestPage.parse(
      (await h.json(`/api/backtests?sweepId=${sweep.id}&cursor=${runs.nextCursor}`)).body,
    );
    expect(rest.items).toHaveLength(2);
    const ids = [...runs.items, ...rest.items].map((b) => b.id);
    expect(new Set(ids).size).toBe(4);

    const compared = BacktestComparison.parse(
      (await h.json(`/api/backtests/compare?ids=${ids[0]},${first},999999`)).body,
    );
    expect(compared.items.map((b) => b.id)).toEqual([ids[0], first]);
    expect(compared.items[1].series?.equity.length).toBeGreaterThan(0);
    expect(compared.items[0].metrics).not.toBeNull();

    expect(SweepPage.parse((await h.json('/api/backtests/sweeps')).body).items.map((s) => s.id)).toContain(
      sweep.id,
    );
    const bad = await h.json<ErrorAnswer>('/api/backtests/sweeps', {
      method: 'POST',
      json: {
        symbols: ['WAVE'],
        timeframe: '1Min',
        strategies: [{ strategy: 'sma-crossover', grid: { fast: [50], slow: [20] } }],
      },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields)[0]).toMatch(/^strategies\.0/);

    expect((await h.json(`/api/backtests/sweeps/${sweep.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await h.json(`/api/backtests/sweeps/${sweep.id}`)).status).toBe(404);
  });

  it('deletes a backtest; unknown ids are 404, malformed ones 400', async () => {
    expect((await h.json(`/api/backtests/${first}`, { method: 'DELETE' })).status).toBe(200);
    expect((await h.json(`/api/backtests/${first}`)).status).toBe(404);
    expect((await h.json(`/api/backtests/${first}`, { method: 'DELETE' })).status).toBe(404);
    expect((await h.json('/api/backtests/abc')).status).toBe(400);
    expect((await h.json('/api/backtests/compare?ids=x')).status).toBe(400);
  });
});
