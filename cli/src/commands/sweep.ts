/**
 * `weaver sweep`: many backtests in one go — strategies × symbols × a parameter grid or a random search,
 * optionally with a hold-out or walk-forward split — on every core of this machine (worker threads),
 * with a progress bar and a ranked table of the results (all saved).
 */
import { availableParallelism } from 'node:os';
import { LocalDispatcher, LocalPool, runSweep } from '@weaver/shared/backtest';
import { compareBacktests } from '@weaver/shared/db';
import { HttpError } from '@weaver/shared/runtime';
import type { ParamValues } from '@weaver/shared/schemas';
import { loadStrategy, paramsJsonSchema } from '@weaver/shared/strategies';
import { Presets, SingleBar } from 'cli-progress';
import { openMigrated } from '../backtest/database.ts';
import {
  csvList,
  flagOf,
  keyValues,
  readFlags,
  SIMULATION_FLAGS,
  SIMULATION_SWITCHES,
  SIMULATION_USAGE,
  scalar,
  simulationOf,
  UsageError,
} from '../backtest/flags.ts';
import { num, pct, table } from '../backtest/output.ts';
import type { Command } from '../main.ts';

const usage = `usage: weaver sweep --strategy NAME[,NAME…] --symbols A[,B…] --grid PARAM=SPEC … [options] [--json]

Runs every combination (or a random sample) of parameters for each strategy and symbol, on all CPU
cores, saves every run, and prints the best by the objective.
  --strategy LIST        strategies to sweep
  --symbols LIST         symbols; each is its own run unless --together
  --together             all symbols in one portfolio per run
  --grid [S:]P=SPEC      values of parameter P (of strategy S, or of every strategy having it):
                         a list 5,10,20 or a range MIN:MAX[:STEP] (step 1 by default) (repeat)
  --param [S:]P=VALUE    a fixed parameter (repeat)
  --random N             draw N combinations instead of the full grid (ranges without a step are
                         sampled continuously, or as integers for integer parameters); --seed N
  --holdout F            choose on the first 1-F of the bars, test the winner on the last F
  --walk-forward K       K folds: choose on fold i, test on fold i+1 (--anchored: choose on 0..i)
  --objective M          sharpe (default), sortino, calmar, probabilisticSharpe, totalReturn, cagr,
                         netProfit, profitFactor, sqn, expectancy, winRate, maxDrawdown (minimised)
  --max-runs N           refuse sweeps larger than N runs (default 10000)
  --workers N            worker threads (default: every core, ${availableParallelism()} here)
  --top N                rows in the result table (default 10)
  --name TEXT            a label for the saved sweep
${SIMULATION_USAGE}
  --state-dir DIR        the local runner's state folder, for the embedded database (default .weaver)
  --json                 print the sweep (folds, best run) and its top runs as JSON
  --no-progress          no progress bar`;

/** `5,10,20` → a list; `2:50` or `2:50:2` → a range. */
export function valuesSpec(spec: string, integer: boolean, random: boolean): ParamValues {
  const range = /^(-?\d+(?:\.\d+)?):(-?\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(spec.trim());
  if (range) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (range[3]) return { min, max, step: Number(range[3]), integer };
    // A grid needs a step: 1 unless the range is sampled at random.
    return random ? { min, max, integer } : { min, max, step: 1, integer };
  }
  return spec.split(',').map((v) => scalar(v)) as ParamValues;
}

const sweep: Command = {
  name: 'sweep',
  summary: 'run a parameter grid or random search (with optional walk-forward) on all cores',
  usage,
  async run(argv) {
    let request: Record<string, unknown>;
    let flags: ReturnType<typeof readFlags>;
    try {
      flags = readFlags(argv, {
        valued: [
          'strategy',
          'symbols',
          'name',
          'random',
          'seed',
          'holdout',
          'walk-forward',
          'objective',
          'max-runs',
          'workers',
          'top',
          'state-dir',
          ...SIMULATION_FLAGS,
        ],
        repeated: ['grid', 'param'],
        switches: ['json', 'together', 'anchored', 'no-progress', ...SIMULATION_SWITCHES],
      });
      const names = csvList(flags.values.strategy);
      if (!names?.length) throw new UsageError('--strategy is required');
      if (!flags.values.symbols) throw new UsageError('--symbols is required');
      if (flags.values.holdout && flags.values['walk-forward'])
        throw new UsageError('give --holdout or --walk-forward, not both');
      const random = flags.values.random !== undefined;
      const strategies = [];
      for (const name of names) {
        // Integer parameters are drawn as integers: the module's own schema says which they are.
        const props = await loadStrategy(name)
          .then((m) => (paramsJsonSchema(m).properties ?? {}) as Record<string, { type?: string }>)
          .catch(() => ({}) as Record<string, { type?: string }>);
        // `[strategy:]param=value`: for this strategy when named, or when it has the parameter.
        const pick = (list: string[] | undefined, flag: string): Record<string, string> => {
          const out: Record<string, string> = {};
          for (const item of list ?? []) {
            const m = /^(?:([a-z0-9-]+):)?([A-Za-z_][\w]*)=(.*)$/s.exec(item);
            if (!m) throw new UsageError(`--${flag} takes [strategy:]name=value, not "${item}"`);
            const [, only, key, value] = m;
            if (only ? only === name : names.length === 1 || key in props) out[key] = value;
          }
          return out;
        };
        const grid: Record<string, ParamValues> = {};
        for (const [k, v] of Object.entries(pick(flags.lists.grid, 'grid'))) {
          grid[k] = valuesSpec(v, props[k]?.type === 'integer', random);
        }
        const params = keyValues(
          Object.entries(pick(flags.lists.param, 'param')).map(([k, x]) => `${k}=${x}`),
          'param',
        );
        strategies.push({ strategy: name, params, grid });
      }
      const v = flags.values;
      request = {
        ...simulationOf(flags),
        name: v.name,
        strategies,
        symbols: csvList(v.symbols),
        symbolMode: flags.switches.has('together') ? 'together' : 'each',
        search: random ? 'random' : 'grid',
        samples: random ? Number(v.random) : undefined,
        seed: v.seed === undefined ? undefined : Number(v.seed),
        objective: v.objective,
        maxRuns: v['max-runs'] === undefined ? undefined : Number(v['max-runs']),
        split: v.holdout
          ? { type: 'holdout', fraction: Number(v.holdout) }
          : v['walk-forward']
            ? {
                type: 'walk_forward',
                folds: Number(v['walk-forward']),
                anchored: flags.switches.has('anchored'),
              }
            : undefined,
      };
      request = Object.fromEntries(Object.entries(request).filter(([, x]) => x !== undefined));
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`weaver sweep: ${e.message}\n\n${usage}\n`);
        return 2;
      }
      throw e;
    }
    const json = flags.switches.has('json');
    const workers = flags.values.workers ? Math.max(1, Number(flags.values.workers)) : undefined;
    let db: Awaited<ReturnType<typeof openMigrated>>;
    try {
      db = await openMigrated(flags.values['state-dir']);
    } catch (e) {
      process.stderr.write(`weaver sweep: ${(e as Error).message}\n`);
      return 1;
    }
    const dispatcher = new LocalDispatcher(new LocalPool(workers));
    const showBar = !json && !flags.switches.has('no-progress') && process.stderr.isTTY;
    const bar = new SingleBar(
      {
        stream: process.stderr,
        format: ' runs [{bar}] {percentage}% | {value}/{total} | {failed} failed | eta {eta_formatted}',
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    let started = false;
    let lastLine = 0;
    const t0 = performance.now();
    try {
      const result = await runSweep({ sql: db.sql, correlationId: `cli-sweep-${process.pid}` }, request, {
        dispatcher,
        onProgress: (p) => {
          if (showBar) {
            if (!started) {
              bar.start(p.total, 0, { failed: 0 });
              started = true;
            }
            bar.update(p.done, { failed: p.failed });
          } else if (!json && (p.done === p.total || performance.now() - lastLine > 2000)) {
            lastLine = performance.now();
            process.stderr.write(`${p.done}/${p.total} runs (${p.failed} failed)\n`);
          }
        },
      });
      if (started) bar.stop();
      const top = Math.max(1, Number(flags.values.top ?? 10));
      const rows = await db.sql<{ id: number }[]>`
        SELECT id FROM backtests WHERE sweep_id = ${result.id} AND status = 'completed'
          AND role = ${result.folds.length ? 'out_of_sample' : 'grid'}
        ORDER BY CASE WHEN ${result.objective} = 'maxDrawdown' THEN -(metrics->>'maxDrawdown')::float8
                      ELSE (metrics->>${result.objective})::float8 END DESC NULLS LAST, id
        LIMIT ${top}`;
      const best = await compareBacktests(
        db.sql,
        rows.map((r) => r.id),
      );
      const seconds = (performance.now() - t0) / 1000;
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ sweep: result, seconds, top: best.map(({ config: _c, ...b }) => b) }, null, 2)}\n`,
        );
      } else {
        const o = result.objective;
        process.stdout.write(
          `sweep ${result.id}: ${result.status}, ${result.done}/${result.total} runs (${result.failed} failed) in ${seconds.toFixed(1)} s on ${dispatcher.pool.size} workers\n\n${table(
            ['id', 'strategy', 'symbols', 'params', o, 'return', 'sharpe', 'max dd', 'trades'],
            best.map((b) => [
              b.id,
              b.strategy,
              b.symbols.join(','),
              JSON.stringify(b.params),
              num((b.metrics as Record<string, unknown> | null)?.[o] as number | null, 3),
              pct(b.totalReturn),
              num(b.sharpe),
              pct(b.maxDrawdown),
              b.trades ?? 0,
            ]),
            ['r', 'l', 'l', 'l'],
          )}\n`,
        );
        if (result.folds.length) {
          process.stdout.write(
            `\n${table(
              [
                'fold',
                'strategy',
                'symbols',
                'in sample',
                'out of sample',
                'chosen',
                'in-sample',
                'out-of-sample',
              ],
              result.folds.map((f) => [
                f.fold,
                f.strategy,
                f.symbols.join(','),
                `${f.inSample.from.slice(0, 10)}…${f.inSample.to.slice(0, 10)}`,
                `${f.outOfSample.from.slice(0, 10)}…${f.outOfSample.to.slice(0, 10)}`,
                JSON.stringify(f.bestParams),
                num(f.inSampleScore, 3),
                num(f.outOfSampleScore, 3),
              ]),
              ['r', 'l', 'l', 'l', 'l', 'l'],
            )}\n`,
          );
        }
        if (result.error) process.stderr.write(`sweep failed: ${result.error}\n`);
      }
      return result.status === 'completed' ? 0 : 1;
    } catch (e) {
      if (started) bar.stop();
      if (e instanceof HttpError) {
        const fields = Object.entries(e.fields).map(([k, v]) => `  ${flagOf(k)}: ${v}`);
        process.stderr.write(`weaver sweep: ${e.message}${fields.length ? `\n${fields.join('\n')}` : ''}\n`);
        return e.status === 422 ? 3 : 2;
      }
      process.stderr.write(`weaver sweep: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await dispatcher.pool.close();
      await db.close();
    }
  },
};

export default sweep;
