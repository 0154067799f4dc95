/**
 * Sweeps: strategies × symbol groups × parameter combinations × time windows, run through a
 * Dispatcher, counted and announced while they run (backtests.progress events and the sweep's row),
 * ranked by the objective, and — with a hold-out or walk-forward split — each window's winner run on
 * the bars it was not chosen on.
 */
import { randomUUID } from 'node:crypto';
import { emit } from '../bus/index.ts';
import {
  finishSweep,
  getSweep,
  insertBacktests,
  insertSweep,
  refreshSweepProgress,
  setSweepTotal,
} from '../db/backtests.ts';
import { logger } from '../log/index.ts';
import { HttpError, invalidInput } from '../runtime/errors.ts';
import {
  type BacktestConfig,
  type BacktestRole,
  type SweepDetail,
  SweepRequest,
  type WalkForwardFold,
} from '../schemas/index.ts';
import { loadStrategy, type StrategyModule } from '../strategies/index.ts';
import { loadBacktestData } from './data.ts';
import type { Dispatcher, DispatchResult } from './dispatch.ts';
import { mergeTimelines } from './engine.ts';
import type { BacktestContext } from './service.ts';
import { strategyProblem } from './service.ts';
import { best, expandGrid, randomCombos, score, symbolGroups, timeWindows } from './sweep.ts';

interface StrategyPlan {
  index: number;
  module: StrategyModule;
  combos: Record<string, unknown>[];
  warmup: number;
  skipped: number;
}

/** Validates each strategy and its combinations; combinations the strategy refuses are skipped. */
async function planStrategies(req: SweepRequest): Promise<StrategyPlan[]> {
  const plans: StrategyPlan[] = [];
  for (const [index, s] of req.strategies.entries()) {
    let module: StrategyModule;
    try {
      module = await loadStrategy(s.strategy);
      if (module.requires) {
        const pre = module.params.safeParse(s.params);
        if (pre.success) for (const m of module.requires(pre.data)) await loadStrategy(m);
      }
    } catch (err) {
      throw strategyProblem(err, `strategies.${index}.`) ?? err;
    }
    let raw: Record<string, unknown>[];
    try {
      raw = req.search === 'grid' ? expandGrid(s.grid) : randomCombos(s.grid, req.samples, req.seed + index);
    } catch (err) {
      throw new HttpError(400, 'invalid_input', (err as Error).message, {
        [`strategies.${index}.grid`]: (err as Error).message,
      });
    }
    const combos: Record<string, unknown>[] = [];
    let warmup = 0;
    let firstProblem: string | null = null;
    for (const combo of raw) {
      const parsed = module.params.safeParse({ ...s.params, ...combo });
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        firstProblem ??= `params.${i.path.join('.')} ${i.message} (${JSON.stringify(combo)})`;
        continue;
      }
      combos.push(parsed.data as Record<string, unknown>);
      warmup = Math.max(warmup, module.warmup(parsed.data));
    }
    if (combos.length === 0) {
      throw new HttpError(
        400,
        'invalid_params',
        `no combination of strategy "${s.strategy}" is valid: ${firstProblem}`,
        {
          [`strategies.${index}.grid`]: `no valid combination: ${firstProblem}`,
        },
      );
    }
    plans.push({ index, module, combos, warmup, skipped: raw.length - combos.length });
  }
  return plans;
}

export interface SweepHandle {
  id: number;
  /** Resolves with the finished sweep (completed, or failed with its error). */
  finished: Promise<SweepDetail>;
}

export interface SweepOptions {
  dispatcher: Dispatcher;
  /** Called as runs finish (the CLI's progress bar). */
  onProgress?: (p: { done: number; total: number; failed: number }) => void;
}

/**
 * Validates the request, loads its bars, creates the sweep row and starts it. Problems with the
 * request are thrown before anything is written (400 naming the field, 422 for missing bars).
 */
export async function startSweep(
  ctx: BacktestContext,
  input: unknown,
  opts: SweepOptions,
): Promise<SweepHandle> {
  const parsed = SweepRequest.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error);
  const req = parsed.data;
  const plans = await planStrategies(req);
  const groups = symbolGroups(req);
  const warmup = Math.max(...plans.map((p) => p.warmup));
  const series = await loadBacktestData(ctx.sql, {
    symbols: req.symbols,
    timeframe: req.timeframe,
    from: req.from,
    to: req.to,
    warmup,
  });
  const from = req.from ? Date.parse(req.from) : Number.NEGATIVE_INFINITY;
  // Each symbol group is split on its own bars: a symbol listed later than another is not given
  // windows from before its first bar.
  const windows = groups.map((g) => {
    const own = series.filter((s) => g.includes(s.symbol));
    try {
      return timeWindows(
        req.split,
        mergeTimelines(own).filter((t) => t >= from),
      );
    } catch (err) {
      throw new HttpError(422, 'too_few_bars', `${g.join(',')}: ${(err as Error).message}`, {
        split: `${g.join(',')}: ${(err as Error).message}`,
      });
    }
  });
  const perGroup = windows[0].length;
  const phase1 = plans.reduce((n, p) => n + p.combos.length, 0) * groups.length * perGroup;
  const phase2 = windows[0][0]?.outOfSample ? plans.length * groups.length * perGroup : 0;
  if (phase1 + phase2 > req.maxRuns) {
    throw new HttpError(
      400,
      'too_many_runs',
      `the sweep would run ${phase1 + phase2} backtests; maxRuns is ${req.maxRuns}`,
      {
        maxRuns: `${phase1 + phase2} runs needed`,
      },
    );
  }
  const sweepId = await insertSweep(ctx.sql, req);
  await setSweepTotal(ctx.sql, sweepId, phase1 + phase2);
  const finished = execute(ctx, opts, {
    req,
    plans,
    groups,
    windows,
    series,
    sweepId,
    total: phase1 + phase2,
  });
  return { id: sweepId, finished };
}

/** startSweep, then wait for it. */
export async function runSweep(
  ctx: BacktestContext,
  input: unknown,
  opts: SweepOptions,
): Promise<SweepDetail> {
  return (await startSweep(ctx, input, opts)).finished;
}

interface Plan {
  req: SweepRequest;
  plans: StrategyPlan[];
  groups: string[][];
  /** Per symbol group (same order as groups). */
  windows: ReturnType<typeof timeWindows>[];
  series: Awaited<ReturnType<typeof loadBacktestData>>;
  sweepId: number;
  total: number;
}

interface RunSpec {
  config: BacktestConfig;
  role: BacktestRole;
  plan: StrategyPlan;
  group: string[];
  fold: number;
}

async function execute(ctx: BacktestContext, opts: SweepOptions, p: Plan): Promise<SweepDetail> {
  const { req, sweepId } = p;
  const log = ctx.log ?? logger();
  const correlationId = ctx.correlationId ?? `sweep-${sweepId}`;
  const iso = (t: number) => new Date(t).toISOString();
  const {
    name: _name,
    strategies: _s,
    symbols: _sym,
    symbolMode: _m,
    search: _se,
    samples: _sa,
    seed: _seed,
    objective,
    split,
    maxRuns: _mr,
    ...settings
  } = req;
  const results = new Map<number, DispatchResult>();
  let done = 0;
  let failed = 0;
  let lastAnnounced = 0;
  const bus = ctx.bus ? await ctx.bus().catch(() => null) : null;
  const onDone = async (r: DispatchResult): Promise<void> => {
    results.set(r.backtestId, r);
    done++;
    if (r.status === 'failed') failed++;
    opts.onProgress?.({ done, total: p.total, failed });
    const now = Date.now();
    // Announce at most four times a second, and always the last run.
    if (now - lastAnnounced >= 250 || done === p.total) {
      lastAnnounced = now;
      await refreshSweepProgress(ctx.sql, sweepId);
      if (bus) {
        await emit(
          ctx.sql,
          bus,
          'backtests.progress',
          { backtestId: r.backtestId, sweepId, done, total: p.total },
          {
            correlationId,
            id: `backtests.progress:${sweepId}:${done}`,
          },
        );
      }
    }
  };
  const data = { key: `sweep-${sweepId}-${randomUUID()}`, series: p.series };
  const launch = async (specs: RunSpec[]): Promise<number[]> => {
    const ids = await insertBacktests(
      ctx.sql,
      specs.map((s) => ({ config: s.config, sweepId, role: s.role })),
    );
    await opts.dispatcher.dispatch(
      ctx.sql,
      specs.map((s, i) => ({ backtestId: ids[i], config: s.config })),
      data,
      onDone,
    );
    return ids;
  };
  try {
    const phase1: RunSpec[] = [];
    const role: BacktestRole = split.type === 'none' ? 'grid' : 'in_sample';
    for (const plan of p.plans) {
      for (const [gi, group] of p.groups.entries()) {
        for (const w of p.windows[gi]) {
          for (const params of plan.combos) {
            phase1.push({
              plan,
              group,
              fold: w.fold,
              role,
              config: {
                ...settings,
                strategy: plan.module.name,
                params,
                symbols: group,
                from: iso(w.inSample.from),
                to: iso(w.inSample.to),
              } as BacktestConfig,
            });
          }
        }
      }
    }
    const ids1 = await launch(phase1);
    const folds: WalkForwardFold[] = [];
    let bestId: number | null;
    if (split.type === 'none') {
      bestId = best(ids1, (id) => score(results.get(id)?.metrics ?? null, objective));
    } else {
      const phase2: RunSpec[] = [];
      const foldOf: WalkForwardFold[] = [];
      for (const plan of p.plans) {
        for (const [gi, group] of p.groups.entries()) {
          for (const w of p.windows[gi]) {
            const candidates = ids1.filter(
              (_, i) => phase1[i].plan === plan && phase1[i].group === group && phase1[i].fold === w.fold,
            );
            const top = best(candidates, (id) => score(results.get(id)?.metrics ?? null, objective));
            const spec = top === null ? null : phase1[ids1.indexOf(top)];
            const fold: WalkForwardFold = {
              fold: w.fold,
              strategy: plan.module.name,
              symbols: group,
              inSample: { from: iso(w.inSample.from), to: iso(w.inSample.to) },
              outOfSample: {
                from: iso((w.outOfSample as { from: number }).from),
                to: iso((w.outOfSample as { to: number }).to),
              },
              bestParams: spec ? spec.config.params : null,
              inSampleScore: top === null ? null : score(results.get(top)?.metrics ?? null, objective),
              inSampleBacktestId: top,
              outOfSampleBacktestId: null,
              outOfSampleScore: null,
            };
            folds.push(fold);
            if (!spec) continue;
            foldOf.push(fold);
            phase2.push({
              plan,
              group,
              fold: w.fold,
              role: 'out_of_sample',
              config: { ...spec.config, from: fold.outOfSample.from, to: fold.outOfSample.to },
            });
          }
        }
      }
      const ids2 = phase2.length ? await launch(phase2) : [];
      ids2.forEach((id, i) => {
        foldOf[i].outOfSampleBacktestId = id;
        foldOf[i].outOfSampleScore = score(results.get(id)?.metrics ?? null, objective);
      });
      bestId = best(ids2, (id) => score(results.get(id)?.metrics ?? null, objective));
    }
    await refreshSweepProgress(ctx.sql, sweepId);
    await finishSweep(ctx.sql, sweepId, { status: 'completed', bestBacktestId: bestId, folds });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error({ sweepId, err: message }, 'sweep failed');
    await refreshSweepProgress(ctx.sql, sweepId).catch(() => {});
    await finishSweep(ctx.sql, sweepId, {
      status: 'failed',
      bestBacktestId: null,
      folds: [],
      error: message,
    }).catch(() => {});
  }
  return (await getSweep(ctx.sql, sweepId)) as SweepDetail;
}
