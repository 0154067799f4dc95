import type { Sql } from 'postgres';
import type { EventEnvelope } from '../schemas/index.ts';

/** Appends an event to the audit log; a repeat of the same event id is ignored. */
export async function recordEvent(sql: Sql, e: EventEnvelope): Promise<void> {
  await sql`
    INSERT INTO events (event_id, type, correlation_id, occurred_at, payload)
    VALUES (${e.id}, ${e.type}, ${e.correlationId}, ${e.occurredAt}, ${sql.json(e.payload as never)})
    ON CONFLICT (event_id) DO NOTHING`;
}
