import type { EventEnvelope } from '../schemas/index.ts';

export interface PublishOptions {
  correlationId: string;
  /** Deterministic id for a logical event, so a repeat publish is de-duplicated (Nats-Msg-Id). */
  id?: string;
}

export interface PublishResult {
  envelope: EventEnvelope;
  /** JetStream sequence (0 on the in-process bus unless it numbers events too). */
  seq: number;
  duplicate: boolean;
}

export type EventHandler = (
  envelope: EventEnvelope,
  raw: { subject: string; seq?: number },
) => void | Promise<void>;

export interface Subscription {
  unsubscribe(): void;
}

/** What functions and the runner need from a message bus; NATS in production, in-process locally. */
export interface Bus {
  readonly prefix: string;
  /** Publishes a validated envelope (see makeEnvelope / publishEvent), de-duplicated by its id. */
  publish(envelope: EventEnvelope): Promise<PublishResult>;
  /** Core (at-most-once) subscription to one subject pattern below the prefix, e.g. `bars.fetched` or `>`. */
  subscribe(pattern: string, handler: EventHandler): Subscription;
  close(): Promise<void>;
}
