import { z } from 'zod';
import { IsoTime } from '../schemas/common.ts';

export const NOTIFICATION_KINDS = ['fill', 'rejection', 'error', 'halt', 'daily_summary', 'test'] as const;
export const NotificationKind = z.enum(NOTIFICATION_KINDS);
export type NotificationKind = z.infer<typeof NotificationKind>;

export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;

/**
 * One message for a trader, independent of where it goes. Channels render it in their own format and
 * cut it to their own limits, so the limits here are the generous common ones.
 */
export const Notification = z.object({
  kind: NotificationKind,
  severity: Severity.default('info'),
  title: z.string().trim().min(1).max(200),
  text: z.string().max(3000).default(''),
  fields: z
    .array(z.object({ name: z.string().min(1).max(100), value: z.string().max(500) }))
    .max(20)
    .default([]),
  occurredAt: IsoTime.optional(),
  correlationId: z.string().max(200).optional(),
});
export type Notification = z.output<typeof Notification>;
export type NotificationInput = z.input<typeof Notification>;

/** Cuts `s` to `max` characters, marking the cut, so a long error never makes a service reject the message. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** For Telegram HTML and Slack mrkdwn: the three characters both treat as markup. */
export function escapeAngle(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A notification posted straight to the notify function (not from an event), e.g. by `weaver notify-test`. */
export const NotifyRequest = Notification.extend({
  /** Same key, same message: channels that already received it are skipped. */
  dedupeKey: z.string().min(1).max(200).optional(),
});
export type NotifyRequest = z.output<typeof NotifyRequest>;

/** The daily-summary function's input: cron-connector posts nothing, which means today (UTC). */
export const DailySummaryRequest = z.object({
  date: z.iso.date().optional(),
  /** Send again even if this day's summary already went out. */
  force: z.boolean().default(false),
});
