import { logger } from '../log/index.ts';
import type { EventEnvelope } from '../schemas/index.ts';
import { parseEnvelope } from './envelope.ts';
import { DUPLICATE_WINDOW_MS } from './nats.ts';
import { subjectOf } from './subjects.ts';
import type { Bus, EventHandler, PublishResult, Subscription } from './types.ts';

/** NATS subject matching: `*` is one token, `>` the rest. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/**
 * The bus of the local runner when NATS_URL is unset: same subjects, same envelopes (serialised and
 * re-parsed, so nothing passes that would not pass NATS), same de-duplication, numbered like a stream.
 */
export class MemoryBus implements Bus {
  private readonly subs = new Set<{ pattern: string; handler: EventHandler }>();
  private readonly recent = new Map<string, number>();
  private seq = 0;
  constructor(readonly prefix = 'weaver') {}

  async publish(envelope: EventEnvelope): Promise<PublishResult> {
    const now = Date.now();
    for (const [id, at] of this.recent) if (now - at > DUPLICATE_WINDOW_MS) this.recent.delete(id);
    if (this.recent.has(envelope.id)) return { envelope, seq: 0, duplicate: true };
    this.recent.set(envelope.id, now);
    const seq = ++this.seq;
    const subject = subjectOf(this.prefix, envelope.type);
    const wire = JSON.stringify(envelope);
    for (const sub of this.subs) {
      if (!subjectMatches(sub.pattern, subject)) continue;
      // Delivered on a later tick, as over a socket: a publisher never runs its subscribers inline.
      setImmediate(() => {
        Promise.resolve(sub.handler(parseEnvelope(wire), { subject, seq })).catch((e) =>
          logger().error({ subject, err: (e as Error).message }, 'event handler failed'),
        );
      });
    }
    return { envelope, seq, duplicate: false };
  }

  subscribe(pattern: string, handler: EventHandler): Subscription {
    const entry = { pattern: `${this.prefix}.${pattern}`, handler };
    this.subs.add(entry);
    return { unsubscribe: () => this.subs.delete(entry) };
  }

  async close(): Promise<void> {
    this.subs.clear();
  }
}
