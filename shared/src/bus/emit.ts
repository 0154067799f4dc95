import type { Sql } from 'postgres';
import { recordEvent } from '../db/events.ts';
import { logger } from '../log/index.ts';
import type { EventPayload, EventType } from '../schemas/index.ts';
import { makeEnvelope } from './envelope.ts';
import type { Bus, PublishResult } from './types.ts';

/**
 * Records an event in the audit log, then publishes it. The database row comes first: if the publish
 * fails the work is still visible there and the reconcile sweep picks it up, so emit never throws for a
 * bus outage (it logs it and reports `published: false`).
 */
export async function emit<T extends EventType>(
  sql: Sql,
  bus: Bus,
  type: T,
  payload: EventPayload<T>,
  opts: { correlationId: string; id?: string },
): Promise<PublishResult & { published: boolean }> {
  const envelope = makeEnvelope(type, payload, opts);
  await recordEvent(sql, envelope);
  try {
    const r = await bus.publish(envelope);
    return { ...r, published: true };
  } catch (err) {
    logger().error(
      { type, eventId: envelope.id, err: (err as Error).message },
      'publish failed; reconcile will recover',
    );
    return { envelope, seq: 0, duplicate: false, published: false };
  }
}

/** Publishes without the audit row (tests, tools). */
export async function publishEvent<T extends EventType>(
  bus: Bus,
  type: T,
  payload: EventPayload<T>,
  opts: { correlationId: string; id?: string },
): Promise<PublishResult> {
  return bus.publish(makeEnvelope(type, payload, opts));
}
