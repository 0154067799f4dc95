import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { logger } from '../log/index.ts';
import type { EventEnvelope } from '../schemas/index.ts';
import { parseEnvelope } from './envelope.ts';
import { allSubjects, subjectOf } from './subjects.ts';
import type { Bus, EventHandler, PublishResult, Subscription } from './types.ts';

const encoder = new TextEncoder();
/** Window in which JetStream drops a second publish with the same Nats-Msg-Id. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

export interface NatsBusOptions {
  url: string;
  prefix: string;
  stream: string;
  name?: string;
}

/** Creates (or updates) the stream capturing `<prefix>.>` for replay and audit. */
export async function ensureStream(nc: NatsConnection, stream: string, prefix: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: stream,
    subjects: [allSubjects(prefix)],
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
    max_age: 30 * 24 * 3600 * 1_000_000_000,
  };
  try {
    await jsm.streams.info(stream);
    await jsm.streams.update(stream, config);
  } catch (err) {
    if (!String((err as Error).message).includes('not found')) throw err;
    await jsm.streams.add(config);
  }
}

export class NatsBus implements Bus {
  readonly prefix: string;
  private constructor(
    readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    prefix: string,
    readonly stream: string,
  ) {
    this.prefix = prefix;
  }

  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: opts.url,
      name: opts.name ?? 'weaver',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    await ensureStream(nc, opts.stream, opts.prefix);
    return new NatsBus(nc, jetstream(nc), opts.prefix, opts.stream);
  }

  async publish(envelope: EventEnvelope): Promise<PublishResult> {
    const ack = await this.js.publish(
      subjectOf(this.prefix, envelope.type),
      encoder.encode(JSON.stringify(envelope)),
      {
        msgID: envelope.id,
      },
    );
    return { envelope, seq: ack.seq, duplicate: ack.duplicate };
  }

  subscribe(pattern: string, handler: EventHandler): Subscription {
    const sub = this.nc.subscribe(`${this.prefix}.${pattern}`, {
      callback: (err, msg) => {
        if (err) return;
        let envelope: ReturnType<typeof parseEnvelope>;
        try {
          envelope = parseEnvelope(msg.data);
        } catch (e) {
          logger().warn({ subject: msg.subject, err: (e as Error).message }, 'dropped invalid event');
          return;
        }
        Promise.resolve(handler(envelope, { subject: msg.subject })).catch((e) =>
          logger().error({ subject: msg.subject, err: (e as Error).message }, 'event handler failed'),
        );
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}
