/**
 * nats-connector, locally: each subject named by a function's `topic` annotation is subscribed (core
 * NATS semantics: at most once) and every message is POSTed to the bound functions as its raw JSON
 * envelope, without a content-type (the template reads it as text), synchronously and one message at a
 * time per subscription — the Go NATS client behind nats-connector runs one callback per subscription.
 * A failed invocation is logged; the message is not retried (reconcile sweeps up what it missed).
 *
 * The first token of an annotated subject is the subject prefix (`weaver` in stack.yml); the runner
 * subscribes below the bus's own prefix, so tests with a private WEAVER_SUBJECT_PREFIX route the same way.
 */
import type { Bus, Subscription } from '@weaver/shared/bus';
import type { Logger } from '@weaver/shared/log';
import type { FunctionHost } from './host.ts';

export interface Delivered {
  fn: string;
  subject: string;
  eventId: string;
  status: number;
}

/** `weaver.bars.fetched` → `bars.fetched`: the part below the prefix. */
export function belowPrefix(subject: string): string {
  return subject.slice(subject.indexOf('.') + 1);
}

export class TopicRouter {
  private readonly subs: Subscription[] = [];
  private stopped = false;
  onDelivered?: (d: Delivered) => void;

  constructor(
    private readonly host: FunctionHost,
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  /** Subject (below the prefix) → functions bound to it, from stack.yml (those that loaded). */
  routes(): Map<string, string[]> {
    const routes = new Map<string, string[]>();
    for (const f of this.host.functions) {
      if (f.trigger.kind !== 'topic' || !this.host.available(f.name)) continue;
      for (const s of f.trigger.subjects) {
        const key = belowPrefix(s);
        routes.set(key, [...(routes.get(key) ?? []), f.name]);
      }
    }
    return routes;
  }

  start(): void {
    for (const [pattern, fns] of this.routes()) {
      let chain: Promise<void> = Promise.resolve();
      const sub = this.bus.subscribe(pattern, (envelope, raw) => {
        const body = Buffer.from(JSON.stringify(envelope));
        chain = chain.then(async () => {
          for (const fn of fns) {
            if (this.stopped) return;
            await this.deliver(fn, raw.subject, envelope.id, body);
          }
        });
        return undefined;
      });
      this.subs.push(sub);
    }
  }

  private async deliver(fn: string, subject: string, eventId: string, body: Buffer): Promise<void> {
    try {
      const res = await this.host.invoke(fn, {
        method: 'POST',
        path: '/',
        query: '',
        headers: {
          'x-topic': subject,
          'content-length': String(body.length),
          'x-connector': 'nats-connector',
        },
        body,
      });
      if (res.status >= 400) {
        this.log.warn(
          {
            fn,
            subject,
            eventId,
            status: res.status,
            callId: res.callId,
            body: res.body.toString('utf8').slice(0, 500),
          },
          'topic invocation failed',
        );
      }
      this.onDelivered?.({ fn, subject, eventId, status: res.status });
    } catch (e) {
      this.log.error({ fn, subject, eventId, err: (e as Error).message }, 'topic invocation failed');
    }
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.subs.splice(0)) s.unsubscribe();
  }
}
