import {
  type Dispatcher,
  dispatcherFromEnv,
  loadBacktestData,
  prepareBacktest,
  runQueuedBacktest,
  startSweep,
} from '@weaver/shared/backtest';
import {
  compareBacktests,
  deleteBacktest,
  deleteSweep,
  getBacktest,
  getBacktestSeries,
  getBacktestTrades,
  getSweep,
  insertBacktest,
  listBacktests,
  listSweeps,
} from '@weaver/shared/db';
import { logger } from '@weaver/shared/log';
import { notFound } from '@weaver/shared/runtime';
import {
  BacktestCompareQuery,
  BacktestComparison,
  BacktestConfig,
  type BacktestDetail,
  BacktestPage,
  BacktestResult,
  BacktestSummary,
  BacktestsQuery,
  BacktestTradePage,
  BacktestTradesQuery,
  IdParam,
  Ok,
  SweepDetail,
  SweepPage,
  SweepRequest,
  SweepSummary,
  SweepsQuery,
} from '@weaver/shared/schemas';
import type { Deps } from '../deps.ts';
import { pipelineContext } from '../pipeline.ts';
import { defineRoute } from '../route.ts';

/**
 * Where backtests run, one per gateway: worker threads on this machine (the local runner), or
 * run-backtest invoked asynchronously through the OpenFaaS gateway when WEAVER_BACKTEST_DISPATCH=openfaas.
 */
const dispatchers = new WeakMap<Deps, Dispatcher>();
function dispatcherOf(deps: Deps): Dispatcher {
  let d = dispatchers.get(deps);
  if (!d) {
    d = dispatcherFromEnv();
    dispatchers.set(deps, d);
  }
  return d;
}

export async function closeBacktestDispatcher(deps: Deps): Promise<void> {
  await dispatchers.get(deps)?.close();
  dispatchers.delete(deps);
}

function summaryOf(detail: BacktestDetail): BacktestSummary {
  const { config: _config, metrics: _metrics, ...summary } = detail;
  return summary;
}

export const backtestRoutes = [
  defineRoute({
    method: 'post',
    path: '/backtests',
    summary:
      'Queue one backtest; it runs asynchronously (watch backtests.completed on /api/events or poll GET /api/backtests/{id})',
    tag: 'backtests',
    body: BacktestConfig,
    response: BacktestSummary,
    status: 202,
    handler: async ({ body }, { deps, c }) => {
      const ctx = pipelineContext(deps, c);
      // Everything the caller can fix is refused now, before a row exists: 400 naming the field, 422 no bars.
      const { config } = await prepareBacktest(body);
      await loadBacktestData(ctx.sql, {
        symbols: config.symbols,
        timeframe: config.timeframe,
        from: config.from,
        to: config.to,
        warmup: 0,
      });
      const id = await insertBacktest(ctx.sql, { config, role: 'single', status: 'queued' });
      const dispatcher = dispatcherOf(deps);
      const log = logger().child({ backtestId: id });
      if (dispatcher.kind === 'openfaas') {
        // run-backtest picks the queued row up from OpenFaaS's queue; completion is read from the row.
        void dispatcher
          .dispatch(ctx.sql, [{ backtestId: id, config }], { key: `backtest-${id}`, series: [] }, () => {})
          .catch((err) => log.error({ err: (err as Error).message }, 'backtest dispatch failed'));
      } else {
        // After this answer is sent: the run (full detail: trades and curves) does not delay it.
        setImmediate(() => {
          runQueuedBacktest(ctx, id).catch((err) =>
            log.error({ err: (err as Error).message }, 'backtest failed'),
          );
        });
      }
      const stored = await getBacktest(ctx.sql, id);
      if (!stored) throw notFound(`backtest ${id}`, 'id');
      return summaryOf(stored);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/backtests',
    summary: 'Backtests, newest first; filter by status, strategy, sweep and role; keyset pages',
    tag: 'backtests',
    query: BacktestsQuery,
    response: BacktestPage,
    handler: async ({ query }, { deps }) => listBacktests(deps.sql(), query),
  }),
  defineRoute({
    method: 'get',
    path: '/backtests/compare',
    summary: 'Several backtests side by side: metrics and curves (ids=1,2,3)',
    tag: 'backtests',
    query: BacktestCompareQuery,
    response: BacktestComparison,
    handler: async ({ query }, { deps }) => {
      const sql = deps.sql();
      const found = await compareBacktests(sql, query.ids);
      const items = await Promise.all(
        found.map(async (b) => ({ ...b, series: await getBacktestSeries(sql, b.id) })),
      );
      return { items };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/backtests/sweeps',
    summary:
      'Start a parameter sweep (grid or random search, optional hold-out or walk-forward); runs asynchronously',
    tag: 'backtests',
    body: SweepRequest,
    response: SweepSummary,
    status: 202,
    handler: async ({ body }, { deps, c }) => {
      const ctx = pipelineContext(deps, c);
      const handle = await startSweep(ctx, body, { dispatcher: dispatcherOf(deps) });
      handle.finished.catch((err) =>
        logger().error({ sweepId: handle.id, err: (err as Error).message }, 'sweep failed'),
      );
      const sweep = await getSweep(ctx.sql, handle.id);
      if (!sweep) throw notFound(`sweep ${handle.id}`, 'id');
      const { request: _r, ...summary } = sweep;
      return summary;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/backtests/sweeps',
    summary: 'Sweeps, newest first, with progress and the best run; keyset pages',
    tag: 'backtests',
    query: SweepsQuery,
    response: SweepPage,
    handler: async ({ query }, { deps }) => listSweeps(deps.sql(), query),
  }),
  defineRoute({
    method: 'get',
    path: '/backtests/sweeps/:id',
    summary:
      'One sweep with its request, progress, best run and walk-forward folds (its runs: GET /api/backtests?sweepId=)',
    tag: 'backtests',
    params: IdParam,
    response: SweepDetail,
    handler: async ({ params }, { deps }) => {
      const sweep = await getSweep(deps.sql(), params.id);
      if (!sweep) throw notFound(`sweep ${params.id}`, 'id');
      return sweep;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/backtests/sweeps/:id',
    summary: 'Delete a sweep and its runs',
    tag: 'backtests',
    params: IdParam,
    response: Ok,
    handler: async ({ params }, { deps }) => {
      if (!(await deleteSweep(deps.sql(), params.id))) throw notFound(`sweep ${params.id}`, 'id');
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/backtests/:id',
    summary:
      'One backtest: config, status, metrics, equity / drawdown / benchmark curves and its first trades',
    tag: 'backtests',
    params: IdParam,
    query: BacktestTradesQuery,
    response: BacktestResult,
    handler: async ({ params, query }, { deps }) => {
      const sql = deps.sql();
      const stored = await getBacktest(sql, params.id);
      if (!stored) throw notFound(`backtest ${params.id}`, 'id');
      const [series, trades] = await Promise.all([
        getBacktestSeries(sql, params.id),
        getBacktestTrades(sql, params.id, query),
      ]);
      return { ...stored, series, trades };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/backtests/:id/trades',
    summary: "A backtest's trades in order, paged by sequence number",
    tag: 'backtests',
    params: IdParam,
    query: BacktestTradesQuery,
    response: BacktestTradePage,
    handler: async ({ params, query }, { deps }) => {
      const sql = deps.sql();
      if (!(await getBacktest(sql, params.id))) throw notFound(`backtest ${params.id}`, 'id');
      return getBacktestTrades(sql, params.id, query);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/backtests/:id',
    summary: 'Delete a backtest with its trades and curves',
    tag: 'backtests',
    params: IdParam,
    response: Ok,
    handler: async ({ params }, { deps }) => {
      if (!(await deleteBacktest(deps.sql(), params.id))) throw notFound(`backtest ${params.id}`, 'id');
      return { ok: true as const };
    },
  }),
];
