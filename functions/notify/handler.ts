import {
  configuredChannels,
  NotifyRequest,
  type NotifyResult,
  noteNoChannels,
  notificationsFor,
  notifyAll,
  type Outgoing,
} from '@weaver/shared/notify';
import { defineFunction, HttpError, invalidInput } from '@weaver/shared/runtime';
import { z } from 'zod';

/**
 * Topic-triggered by nats-connector on fills, rejections, halts and failures, so a slow or failing chat
 * service never holds up trading. Also callable over HTTP with a notification as the body.
 */
export default defineFunction({
  name: 'notify',
  // An event's payload differs by type, and a direct call carries a notification: parsed in run().
  input: z.unknown(),
  async run(input, ctx) {
    let outgoing: Outgoing[];
    if (ctx.event) {
      outgoing = await notificationsFor(ctx.sql, ctx.event);
    } else {
      const parsed = NotifyRequest.safeParse(input);
      if (!parsed.success) throw invalidInput(parsed.error);
      const { dedupeKey, ...notification } = parsed.data;
      outgoing = [{ dedupeKey: dedupeKey ?? `http:${ctx.correlationId}`, notification }];
    }
    const { channels, invalid } = configuredChannels();
    if (Object.keys(invalid).length) ctx.log.error({ invalid }, 'notification channels misconfigured');
    if (channels.length === 0) noteNoChannels(ctx.log);
    const sent: { dedupeKey: string; results: NotifyResult[] }[] = [];
    for (const o of outgoing) {
      const results = await notifyAll(ctx.sql, o.notification, {
        dedupeKey: o.dedupeKey,
        channels,
        log: ctx.log,
        // Bounded to stay inside the function's exec_timeout (stack.yml) with every retry.
        timeoutMs: 5000,
        maxDelayMs: 5000,
      });
      sent.push({ dedupeKey: o.dedupeKey, results });
    }
    const failed = sent.flatMap((s) => s.results.filter((r) => !r.ok));
    if (failed.length) {
      throw new HttpError(
        502,
        'notify_failed',
        `delivery failed on ${failed.map((f) => f.channel).join(', ')}`,
        Object.fromEntries(failed.map((f) => [f.channel, f.error ?? 'failed'])),
      );
    }
    return { notifications: sent, channels: channels.map((c) => c.channel.name), invalidChannels: invalid };
  },
});
