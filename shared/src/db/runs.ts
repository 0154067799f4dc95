import type { Sql } from 'postgres';
import type { RunOutcome } from '../schemas/index.ts';

export async function startRun(
  sql: Sql,
  run: { functionName: string; correlationId: string | null; trigger: string | null },
): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO function_runs (function_name, correlation_id, trigger)
    VALUES (${run.functionName}, ${run.correlationId}, ${run.trigger})
    RETURNING id`;
  return row.id;
}

export async function finishRun(
  sql: Sql,
  id: number,
  end: { outcome: Exclude<RunOutcome, 'running'>; statusCode: number; error?: string | null },
): Promise<void> {
  await sql`
    UPDATE function_runs
    SET finished_at = now(), outcome = ${end.outcome}, status_code = ${end.statusCode}, error = ${end.error ?? null}
    WHERE id = ${id}`;
}
