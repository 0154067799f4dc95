import { randomUUID } from 'node:crypto';
import {
  EVENT_PAYLOADS,
  type EventEnvelope,
  EventEnvelopeSchema,
  type EventPayload,
  type EventType,
} from '../schemas/index.ts';

export class InvalidEventError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** Builds and validates an envelope before it leaves (payloads are validated on both ends). */
export function makeEnvelope<T extends EventType>(
  type: T,
  payload: EventPayload<T>,
  opts: { correlationId: string; id?: string },
): EventEnvelope<T> {
  const parsed = EVENT_PAYLOADS[type].safeParse(payload);
  if (!parsed.success) {
    throw new InvalidEventError(
      `invalid ${type} payload`,
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return {
    id: opts.id ?? randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    correlationId: opts.correlationId,
    payload: parsed.data as EventPayload<T>,
  };
}

/** Parses a received message (bytes, text or object) into a validated envelope. */
export function parseEnvelope(data: Uint8Array | string | unknown): EventEnvelope {
  let value: unknown = data;
  try {
    if (data instanceof Uint8Array) value = JSON.parse(new TextDecoder().decode(data));
    else if (typeof data === 'string') value = JSON.parse(data);
  } catch {
    throw new InvalidEventError('event is not JSON', [{ path: '', message: 'not JSON' }]);
  }
  const parsed = EventEnvelopeSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidEventError(
      'invalid event envelope',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}
