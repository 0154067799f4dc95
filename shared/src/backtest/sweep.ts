/**
 * Planning a sweep, pure: parameter combinations (grid or seeded random search), symbol groups, time
 * windows (none, a hold-out, or walk-forward folds), and ranking results by the objective.
 */
import type { z } from 'zod';
import type { BacktestMetrics, ParamValues, SweepObjective, SweepRequest } from '../schemas/backtest.ts';

/** A grid as written (the range's `integer` may be left out): planning accepts it before or after parsing. */
type GridInput = Record<string, z.input<typeof ParamValues>>;

type Combo = Record<string, unknown>;

/** A range's values: min, min + step, … ≤ max (step 1 by default); rounding noise removed. */
function rangeValues(r: { min: number; max: number; step?: number }): number[] {
  const step = r.step ?? 1;
  const n = Math.floor((r.max - r.min) / step + 1e-9) + 1;
  if (n > 100_000) throw new RangeError(`a range of ${n} values is too many`);
  return Array.from({ length: n }, (_, i) => Number((r.min + i * step).toPrecision(12)));
}

const valuesOf = (v: z.input<typeof ParamValues>): unknown[] => (Array.isArray(v) ? v : rangeValues(v));

/** Every combination of the grid's values (the cartesian product), in a stable order. */
export function expandGrid(grid: GridInput): Combo[] {
  let combos: Combo[] = [{}];
  for (const [key, spec] of Object.entries(grid)) {
    const values = valuesOf(spec);
    const next: Combo[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [key]: v });
    combos = next;
    if (combos.length > 1_000_000) throw new RangeError('the grid has more than 1,000,000 combinations');
  }
  return combos;
}

/** A small seeded PRNG (mulberry32): the same seed draws the same combinations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `samples` random combinations: lists are drawn from, ranges sampled uniformly (on the step grid if any). */
export function randomCombos(grid: GridInput, samples: number, seed: number): Combo[] {
  const next = rng(seed);
  const out: Combo[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < samples && tries < samples * 20; tries++) {
    const c: Combo = {};
    for (const [key, spec] of Object.entries(grid)) {
      if (Array.isArray(spec)) c[key] = spec[Math.floor(next() * spec.length)];
      else if (spec.step !== undefined) {
        const vals = rangeValues(spec);
        c[key] = vals[Math.floor(next() * vals.length)];
      } else {
        const x = spec.min + next() * (spec.max - spec.min);
        c[key] = spec.integer ? Math.round(x) : x;
      }
    }
    const k = JSON.stringify(c);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(c);
  }
  return out;
}

export interface Window {
  /** Index of the fold (0 when there is no split). */
  fold: number;
  inSample: { from: number; to: number };
  outOfSample: { from: number; to: number } | null;
}

/**
 * Time windows over a timeline (epoch ms, ascending) by bar count: the whole range; a hold-out of the
 * last fraction; or k + 1 equal segments where fold i chooses on segment i (anchored: 0..i) and is
 * tested on segment i + 1.
 */
export function timeWindows(split: SweepRequest['split'], timeline: Float64Array): Window[] {
  const n = timeline.length;
  if (n === 0) return [];
  const at = (i: number) => timeline[Math.max(0, Math.min(n - 1, i))];
  if (split.type === 'none')
    return [{ fold: 0, inSample: { from: at(0), to: at(n - 1) }, outOfSample: null }];
  if (split.type === 'holdout') {
    const cut = Math.floor(n * (1 - split.fraction));
    if (cut < 2 || n - cut < 2) throw new RangeError('too few bars for this hold-out');
    return [
      { fold: 0, inSample: { from: at(0), to: at(cut - 1) }, outOfSample: { from: at(cut), to: at(n - 1) } },
    ];
  }
  const parts = split.folds + 1;
  const size = Math.floor(n / parts);
  if (size < 2) throw new RangeError(`too few bars for ${split.folds} walk-forward folds`);
  const bounds = Array.from({ length: parts + 1 }, (_, i) => (i === parts ? n : i * size));
  return Array.from({ length: split.folds }, (_, i) => ({
    fold: i,
    inSample: { from: at(split.anchored ? 0 : bounds[i]), to: at(bounds[i + 1] - 1) },
    outOfSample: { from: at(bounds[i + 1]), to: at(bounds[i + 2] - 1) },
  }));
}

/** A score where higher is better, or null when the metric is undefined for the run. */
export function score(metrics: BacktestMetrics | null, objective: SweepObjective): number | null {
  if (!metrics) return null;
  const v = metrics[objective];
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return objective === 'maxDrawdown' ? -v : v;
}

/** The entry with the best score (ties: the earliest). */
export function best<T>(items: readonly T[], scoreOf: (t: T) => number | null): T | null {
  let top: T | null = null;
  let topScore = Number.NEGATIVE_INFINITY;
  for (const it of items) {
    const s = scoreOf(it);
    if (s !== null && s > topScore) {
      top = it;
      topScore = s;
    }
  }
  return top;
}

/** The symbol groups runs cover: one per symbol, or all together. */
export const symbolGroups = (req: Pick<SweepRequest, 'symbols' | 'symbolMode'>): string[][] =>
  req.symbolMode === 'each' ? req.symbols.map((s) => [s]) : [req.symbols];
