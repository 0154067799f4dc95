import type { AuditPage, EventType } from '@weaver/shared/schemas';
import useSWR from 'swr';
import { apiPath } from './client.ts';
import { useLiveEvents } from './live.ts';
import { routes } from './routes.ts';

export interface ActivityItem {
  eventId: string;
  type: EventType;
  occurredAt: string;
  correlationId: string;
  payload: unknown;
}

/**
 * Recent events: the audit log's newest page (so the view is filled on first load) with the live stream's
 * events on top, each event once.
 */
/**
 * What a trader follows: every event but protect-positions' internal wake-up calls. A record keyed by
 * the type, so a new event type fails the typecheck until it is placed here (and the schemas' runtime
 * list stays out of the first-load bundle).
 */
const FOLLOWED: Record<Exclude<EventType, 'protection.due'>, true> = {
  'bars.fetched': true,
  'signals.created': true,
  'orders.updated': true,
  'trades.recorded': true,
  'risk.halted': true,
  'risk.resumed': true,
  'positions.drift': true,
  'strategies.changed': true,
  'backtests.progress': true,
  'backtests.completed': true,
  'functions.failed': true,
};
export const TRADING_ACTIVITY = Object.keys(FOLLOWED) as EventType[];

export function useActivity(opts: { limit: number; types?: EventType[] }) {
  const types = opts.types?.length ? opts.types.join(',') : undefined;
  const audit = useSWR<AuditPage>(apiPath(routes.audit, { limit: opts.limit, type: types }));
  const { events, status } = useLiveEvents();
  const seen = new Set<string>();
  const items: ActivityItem[] = [];
  const wanted = opts.types?.length ? new Set(opts.types) : null;
  for (const e of events) {
    const env = e.envelope;
    if (wanted && !wanted.has(env.type)) continue;
    if (seen.has(env.id)) continue;
    seen.add(env.id);
    items.push({
      eventId: env.id,
      type: env.type,
      occurredAt: env.occurredAt,
      correlationId: env.correlationId,
      payload: env.payload,
    });
  }
  for (const a of audit.data?.items ?? []) {
    if (seen.has(a.eventId)) continue;
    seen.add(a.eventId);
    items.push({
      eventId: a.eventId,
      type: a.type,
      occurredAt: a.occurredAt,
      correlationId: a.correlationId,
      payload: a.payload,
    });
  }
  items.sort((x, y) => (x.occurredAt < y.occurredAt ? 1 : x.occurredAt > y.occurredAt ? -1 : 0));
  return {
    items: items.slice(0, opts.limit),
    error: audit.error,
    isLoading: audit.isLoading && items.length === 0,
    retry: () => audit.mutate(),
    status,
  };
}
