import type { Sql } from 'postgres';
import { type Bus, makeEnvelope } from '../bus/index.ts';
import { recordEvent } from '../db/events.ts';
import { transaction } from '../db/transaction.ts';
import { type Logger, logger } from '../log/index.ts';
import type { EventPayload, EventType } from '../schemas/index.ts';

/**
 * What pipeline logic needs from its caller: a function's RunContext satisfies it, and the gateway or a
 * tool builds one from its own pool and bus.
 */
export interface PipelineContext {
  sql: Sql;
  bus(): Promise<Bus>;
  /** Carried onto every event this work publishes (bar → signal → order → trade). */
  correlationId: string;
  log?: Logger;
}

export const logOf = (ctx: PipelineContext): Logger => ctx.log ?? logger();

/**
 * Audit row + publish with a deterministic id, so a repeated run publishes nothing new to the stream.
 * The row is written in a transaction of its own once the work it announces has committed (BEGIN,
 * INSERT and COMMIT in one round trip, so the audit log's commit order is the announcements' order),
 * and its commit does not wait for the disk: the work is committed already, and the stream keeps the
 * event. A bus outage is logged, not thrown: the database is the truth, and reconcile recovers.
 */
export async function publish<T extends EventType>(
  ctx: PipelineContext,
  type: T,
  payload: EventPayload<T>,
  id: string,
): Promise<void> {
  const envelope = makeEnvelope(type, payload, { correlationId: ctx.correlationId, id });
  await transaction(
    ctx.sql,
    async (tx, control) => {
      await Promise.all([recordEvent(tx, envelope), control.commit()]);
    },
    { synchronousCommit: false },
  );
  try {
    await (await ctx.bus()).publish(envelope);
  } catch (err) {
    logOf(ctx).error(
      { type: envelope.type, eventId: envelope.id, err: errorMessage(err) },
      'publish failed; reconcile will recover',
    );
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
