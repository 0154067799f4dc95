import type { Sql } from 'postgres';
import type { RunOutcome } from '../schemas/index.ts';
import { transaction } from './transaction.ts';

/**
 * Run rows are operational records written on every invocation, ahead of the function's work: their
 * commits do not wait for the disk (an fsync is milliseconds on a busy one, on every function of the
 * order path). A PostgreSQL crash may lose the last fraction of a second of them, nothing else.
 */
const RECORD = { synchronousCommit: false };

export async function startRun(
  sql: Sql,
  run: { functionName: string; correlationId: string | null; trigger: string | null },
): Promise<number> {
  return transaction(
    sql,
    async (tx, control) => {
      const [[row]] = await Promise.all([
        tx<{ id: number }[]>`
          INSERT INTO function_runs (function_name, correlation_id, trigger)
          VALUES (${run.functionName}, ${run.correlationId}, ${run.trigger})
          RETURNING id`,
        control.commit(),
      ]);
      return row.id;
    },
    RECORD,
  );
}

export async function finishRun(
  sql: Sql,
  id: number,
  end: { outcome: Exclude<RunOutcome, 'running'>; statusCode: number; error?: string | null },
): Promise<void> {
  await transaction(
    sql,
    async (tx, control) => {
      await Promise.all([
        tx`
          UPDATE function_runs
          SET finished_at = now(), outcome = ${end.outcome}, status_code = ${end.statusCode}, error = ${end.error ?? null}
          WHERE id = ${id}`,
        control.commit(),
      ]);
    },
    RECORD,
  );
}
