import type { Sql } from 'postgres';
import { type Bus, emit } from '../bus/index.ts';
import type { Logger } from '../log/index.ts';
import { clip } from './message.ts';

/**
 * Publishes `functions.failed` for a run that ended in a 5xx, so the notify function can tell the trader.
 * Best effort and bounded: a failure report must never turn into a second failure or a hang (NATS down).
 * The notify function does not report itself, which would loop.
 */
export async function reportFunctionFailure(
  sql: Sql,
  bus: () => Promise<Bus>,
  run: { functionName: string; runId: number | null; error: string; correlationId: string },
  log: Logger,
): Promise<void> {
  if (run.functionName === 'notify') return;
  const bound = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('the bus did not answer in 2 s')), 2000).unref(),
  );
  try {
    await Promise.race([
      (async () => {
        await emit(
          sql,
          await bus(),
          'functions.failed',
          { functionName: run.functionName, runId: run.runId, error: clip(run.error, 500) },
          { correlationId: run.correlationId, id: run.runId ? `functions.failed:${run.runId}` : undefined },
        );
      })(),
      bound,
    ]);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not report the failure');
  }
}
