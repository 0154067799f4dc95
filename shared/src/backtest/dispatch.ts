/**
 * Where a sweep's runs execute. Both dispatchers take queued `backtests` rows and finish them
 * (completed or failed, results stored); the sweep only waits and counts:
 * - LocalDispatcher: worker threads on every core of this machine (the local runner, the CLI);
 * - OpenFaasDispatcher: one async invocation of run-backtest per run through the OpenFaaS gateway
 *   (POST /async-function/run-backtest), so the function's replicas share the work through OpenFaaS's
 *   queue; completion is read from the rows the function writes.
 */
import type { Sql } from 'postgres';
import { z } from 'zod';
import type { BarSeries } from '../bars/index.ts';
import { completeBacktest, failBacktest } from '../db/backtests.ts';
import type { BacktestConfig, BacktestMetrics } from '../schemas/backtest.ts';
import { LocalPool } from './pool.ts';

export interface DispatchJob {
  backtestId: number;
  config: BacktestConfig;
}

export interface DispatchResult {
  backtestId: number;
  status: 'completed' | 'failed';
  metrics: BacktestMetrics | null;
  error: string | null;
}

/** Bars already loaded for the runs (the local pool shares them; a remote function loads its own). */
export interface DataSet {
  key: string;
  series: readonly BarSeries[];
}

export interface Dispatcher {
  readonly kind: 'local' | 'openfaas';
  /** Runs the queued rows to completion; `onDone` is called once per job after its result is stored. */
  dispatch(
    sql: Sql,
    jobs: readonly DispatchJob[],
    data: DataSet,
    onDone: (r: DispatchResult) => void | Promise<void>,
  ): Promise<void>;
  close(): Promise<void>;
}

/** Runs `fn` with at most `limit` calls in flight. */
function limiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export class LocalDispatcher implements Dispatcher {
  readonly kind = 'local' as const;
  readonly pool: LocalPool;
  private readonly owned: boolean;

  constructor(pool?: LocalPool) {
    this.pool = pool ?? new LocalPool();
    this.owned = !pool;
  }

  async dispatch(
    sql: Sql,
    jobs: readonly DispatchJob[],
    data: DataSet,
    onDone: (r: DispatchResult) => void | Promise<void>,
  ): Promise<void> {
    this.pool.load(data.key, data.series);
    const ids = jobs.map((j) => j.backtestId);
    await sql`UPDATE backtests SET status = 'running', started_at = now() WHERE id = ANY(${ids}::bigint[]) AND status = 'queued'`;
    const store = limiter(4);
    try {
      await Promise.all(
        jobs.map(async (j) => {
          const o = await this.pool.run({
            id: j.backtestId,
            dataKey: data.key,
            config: j.config,
            detail: 'summary',
          });
          const r: DispatchResult = await store(async () => {
            if (o.ok) {
              await completeBacktest(sql, j.backtestId, o.result);
              return {
                backtestId: j.backtestId,
                status: 'completed',
                metrics: o.result.metrics,
                error: null,
              };
            }
            await failBacktest(sql, j.backtestId, o.error);
            return { backtestId: j.backtestId, status: 'failed', metrics: null, error: o.error };
          });
          await onDone(r);
        }),
      );
    } finally {
      this.pool.unload(data.key);
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.pool.close();
  }
}

export const OpenFaasSettings = z.object({
  /** The OpenFaaS gateway, e.g. http://gateway:8080 (faasd) or http://127.0.0.1:8080. */
  gatewayUrl: z.string().url(),
  /** Passed as X-Callback-Url: OpenFaaS posts each run's answer there when it finishes (optional). */
  callbackUrl: z.string().url().optional(),
  functionName: z.string().min(1).default('run-backtest'),
  pollMs: z.number().int().min(10).max(60_000).default(500),
  /** Longest a sweep waits for its runs before failing the stragglers. */
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .default(6 * 3600_000),
});
export type OpenFaasSettings = z.input<typeof OpenFaasSettings>;

export class OpenFaasDispatcher implements Dispatcher {
  readonly kind = 'openfaas' as const;
  private readonly s: z.output<typeof OpenFaasSettings>;

  constructor(settings: OpenFaasSettings) {
    this.s = OpenFaasSettings.parse(settings);
  }

  async dispatch(
    sql: Sql,
    jobs: readonly DispatchJob[],
    _data: DataSet,
    onDone: (r: DispatchResult) => void | Promise<void>,
  ): Promise<void> {
    const pending = new Set(jobs.map((j) => j.backtestId));
    const url = `${this.s.gatewayUrl.replace(/\/$/, '')}/async-function/${this.s.functionName}`;
    const post = limiter(16);
    await Promise.all(
      jobs.map((j) =>
        post(async () => {
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            'x-call-id': `backtest-${j.backtestId}`,
          };
          if (this.s.callbackUrl) headers['x-callback-url'] = this.s.callbackUrl;
          let problem: string | null = null;
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers,
              body: JSON.stringify({ backtestId: j.backtestId }),
            });
            if (res.status !== 202 && !res.ok)
              problem = `the gateway refused the invocation: ${res.status} ${await res.text()}`;
          } catch (err) {
            problem = `the gateway could not be reached: ${err instanceof Error ? err.message : String(err)}`;
          }
          if (problem) {
            await failBacktest(sql, j.backtestId, problem);
            pending.delete(j.backtestId);
            await onDone({ backtestId: j.backtestId, status: 'failed', metrics: null, error: problem });
          }
        }),
      ),
    );
    const deadline = Date.now() + this.s.timeoutMs;
    while (pending.size > 0) {
      const rows = await sql<
        {
          id: number;
          status: 'completed' | 'failed';
          metrics: BacktestMetrics | null;
          error: string | null;
        }[]
      >`
        SELECT id, status, metrics, error FROM backtests
        WHERE id = ANY(${[...pending]}::bigint[]) AND status IN ('completed', 'failed')`;
      for (const r of rows) {
        pending.delete(r.id);
        await onDone({ backtestId: r.id, status: r.status, metrics: r.metrics, error: r.error });
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        for (const id of pending) {
          await failBacktest(sql, id, 'timed out waiting for run-backtest');
          await onDone({
            backtestId: id,
            status: 'failed',
            metrics: null,
            error: 'timed out waiting for run-backtest',
          });
        }
        break;
      }
      await new Promise((r) => setTimeout(r, this.s.pollMs));
    }
  }

  async close(): Promise<void> {}
}

export const BacktestDispatchEnv = z.object({
  WEAVER_BACKTEST_DISPATCH: z.enum(['local', 'openfaas']).default('local'),
  WEAVER_OPENFAAS_GATEWAY: z.string().url().optional(),
  WEAVER_BACKTEST_CALLBACK_URL: z.string().url().optional(),
});

/**
 * The dispatcher the environment asks for: WEAVER_BACKTEST_DISPATCH=openfaas with
 * WEAVER_OPENFAAS_GATEWAY (deployed), else worker threads on this machine. Invalid values throw,
 * naming the variable.
 */
export function dispatcherFromEnv(env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const e = BacktestDispatchEnv.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
  );
  if (!e.success) {
    const i = e.error.issues[0];
    throw new Error(`invalid configuration: ${i.path.join('.')} ${i.message}`);
  }
  if (e.data.WEAVER_BACKTEST_DISPATCH === 'openfaas') {
    if (!e.data.WEAVER_OPENFAAS_GATEWAY) {
      throw new Error(
        'invalid configuration: WEAVER_OPENFAAS_GATEWAY is required when WEAVER_BACKTEST_DISPATCH=openfaas',
      );
    }
    return new OpenFaasDispatcher({
      gatewayUrl: e.data.WEAVER_OPENFAAS_GATEWAY,
      callbackUrl: e.data.WEAVER_BACKTEST_CALLBACK_URL,
    });
  }
  return new LocalDispatcher();
}
