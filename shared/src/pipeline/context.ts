import type { Sql } from 'postgres';
import { type Bus, makeEnvelope } from '../bus/index.ts';
import { recordEvent } from '../db/events.ts';
import { transaction } from '../db/transaction.ts';
import { type Logger, logger } from '../log/index.ts';
import type { EventEnvelope, EventPayload, EventType } from '../schemas/index.ts';

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
 * The row is written (BEGIN, INSERT and COMMIT in one round trip) before the publish, and its commit
 * does not wait for the disk: what it records is already committed, and the stream keeps the event.
 */
export async function publish<T extends EventType>(
  ctx: PipelineContext,
  type: T,
  payload: EventPayload<T>,
  id: string,
): Promise<void> {
  const envelope = await transaction(
    ctx.sql,
    async (tx, control) => {
      const [staged] = await Promise.all([stageEvent(ctx, tx, type, payload, id), control.commit()]);
      return staged;
    },
    { synchronousCommit: false },
  );
  await sendEvent(ctx, envelope);
}

/**
 * Writes an event's audit row through `tx`, inside the transaction that does the work it announces (so
 * the row exists exactly when the work does, and costs no round trip of its own when sent alongside
 * the work's last statements). Publish the returned envelope with `sendEvent` once committed.
 */
export async function stageEvent<T extends EventType>(
  ctx: PipelineContext,
  tx: Sql,
  type: T,
  payload: EventPayload<T>,
  id: string,
): Promise<EventEnvelope> {
  const envelope = makeEnvelope(type, payload, { correlationId: ctx.correlationId, id });
  await recordEvent(tx, envelope);
  return envelope;
}

/** Publishes a staged event. As with `publish`, a bus outage is logged, not thrown: the row is the truth. */
export async function sendEvent(ctx: PipelineContext, envelope: EventEnvelope): Promise<void> {
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
