import { runQueuedBacktest, runStoredBacktest } from '@weaver/shared/backtest';
import { defineFunction, invalidInput } from '@weaver/shared/runtime';
import { QueuedBacktestRun } from '@weaver/shared/schemas';
import { z } from 'zod';

/**
 * Runs one backtest. Body: a BacktestConfig (answers its id, summary and metrics), or
 * `{ "backtestId": n }` for a queued run — how a sweep's async invocations arrive through OpenFaaS's
 * queue. 400 names the bad field (unknown strategy, a parameter, a setting), 422 an empty data range.
 */
export default defineFunction({
  name: 'run-backtest',
  input: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }),
  async run(input, ctx) {
    const bt = { sql: ctx.sql, bus: ctx.bus, correlationId: ctx.correlationId, log: ctx.log };
    if ('backtestId' in input) {
      const q = QueuedBacktestRun.safeParse(input);
      if (!q.success) throw invalidInput(q.error);
      return runQueuedBacktest(bt, q.data.backtestId);
    }
    const { outcome: _outcome, ...result } = await runStoredBacktest(bt, input);
    return result;
  },
});
