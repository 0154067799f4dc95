import { clock } from '@weaver/shared/clock';
import {
  configuredChannels,
  DailySummaryRequest,
  dailySummary,
  notifyAll,
  summaryNotification,
} from '@weaver/shared/notify';
import { defineFunction, HttpError } from '@weaver/shared/runtime';

/** Cron: the day's trades, P&L, orders and equity change, to every configured channel, once per day. */
export default defineFunction({
  name: 'daily-summary',
  input: DailySummaryRequest,
  async run(input, ctx) {
    const date = input.date ?? new Date(clock().now()).toISOString().slice(0, 10);
    const summary = await dailySummary(ctx.sql, date);
    const { channels, invalid } = configuredChannels();
    if (Object.keys(invalid).length) ctx.log.error({ invalid }, 'notification channels misconfigured');
    const results = await notifyAll(ctx.sql, summaryNotification(summary), {
      dedupeKey: input.force ? `daily-summary:${date}:${ctx.correlationId}` : `daily-summary:${date}`,
      channels,
      log: ctx.log,
      timeoutMs: 5000,
      maxDelayMs: 5000,
    });
    const failed = results.filter((r) => !r.ok);
    if (failed.length) {
      throw new HttpError(
        502,
        'notify_failed',
        `delivery failed on ${failed.map((f) => f.channel).join(', ')}`,
        Object.fromEntries(failed.map((f) => [f.channel, f.error ?? 'failed'])),
      );
    }
    return { summary, results };
  },
});
