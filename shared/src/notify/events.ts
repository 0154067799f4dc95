import type { Sql } from 'postgres';
import type { EventEnvelope } from '../schemas/index.ts';
import type { Notification } from './message.ts';

/** The event types a trader hears about; nats-connector binds the notify function to exactly these. */
export const NOTIFY_EVENT_TYPES = [
  'trades.recorded',
  'orders.updated',
  'risk.halted',
  'functions.failed',
  'positions.drift',
] as const;

export interface Outgoing {
  dedupeKey: string;
  notification: Notification;
}

const upper = (s: string) => s.toUpperCase();

/**
 * What to tell a trader about an event: fills (as recorded trades, which carry the price), rejections,
 * risk halts, function failures and position drift. Other events, and order updates that are not
 * rejections, say nothing. Dedupe keys name the row, so a redelivered event notifies once.
 */
export async function notificationsFor(sql: Sql, e: EventEnvelope): Promise<Outgoing[]> {
  const base = { occurredAt: e.occurredAt, correlationId: e.correlationId, text: '', fields: [] };
  switch (e.type) {
    case 'trades.recorded': {
      const p = e.payload as EventEnvelope<'trades.recorded'>['payload'];
      return p.trades.map((t) => ({
        dedupeKey: `trade:${t.id}`,
        notification: {
          ...base,
          kind: 'fill',
          severity: 'info',
          title: `Filled: ${upper(t.side)} ${t.qty} ${t.symbol} @ ${t.price}`,
          fields: [
            { name: 'Strategy', value: t.strategy },
            { name: 'Realized P&L', value: t.realizedPnl },
          ],
        },
      }));
    }
    case 'orders.updated': {
      const p = e.payload as EventEnvelope<'orders.updated'>['payload'];
      const rejected = p.orders.filter((o) => o.status === 'rejected' || o.status === 'failed');
      if (rejected.length === 0) return [];
      // The event names the orders; the reason lives on the row.
      const rows = await sql<{ id: number; error_code: string | null; error_message: string | null }[]>`
        SELECT id, error_code, error_message FROM orders WHERE id IN ${sql(rejected.map((o) => o.id))}`;
      const why = new Map(rows.map((r) => [r.id, r]));
      return rejected.map((o) => {
        const row = why.get(o.id);
        const reason = [row?.error_code, row?.error_message].filter(Boolean).join(': ') || 'no reason given';
        return {
          dedupeKey: `order-rejected:${o.id}`,
          notification: {
            ...base,
            kind: 'rejection',
            severity: 'warning',
            title: `Order rejected: ${upper(o.side)} ${o.symbol} (${o.strategy})`,
            text: reason,
            fields: [
              { name: 'Client order id', value: o.clientOrderId },
              { name: 'Status', value: o.status },
            ],
          },
        };
      });
    }
    case 'risk.halted': {
      const p = e.payload as EventEnvelope<'risk.halted'>['payload'];
      return [
        {
          dedupeKey: `halt:${e.id}`,
          notification: {
            ...base,
            kind: 'halt',
            severity: 'critical',
            title: `Trading halted (${p.scope})`,
            text: p.reason,
            fields: [{ name: 'Until', value: p.until ?? 'cleared by hand' }],
          },
        },
      ];
    }
    case 'functions.failed': {
      const p = e.payload as EventEnvelope<'functions.failed'>['payload'];
      // Our own failures are in the logs and metrics; notifying about them could loop.
      if (p.functionName === 'notify') return [];
      return [
        {
          dedupeKey: `error:${e.id}`,
          notification: {
            ...base,
            kind: 'error',
            severity: 'critical',
            title: `Function failed: ${p.functionName}`,
            text: p.error,
            fields: p.runId ? [{ name: 'Run', value: String(p.runId) }] : [],
          },
        },
      ];
    }
    case 'positions.drift': {
      const p = e.payload as EventEnvelope<'positions.drift'>['payload'];
      return [
        {
          dedupeKey: `drift:${e.id}`,
          notification: {
            ...base,
            kind: 'error',
            severity: 'warning',
            title: `Position drift on ${p.exchange}: ${p.symbol}`,
            text: `Weaver's books say ${p.expected}, the exchange says ${p.actual}.`,
          },
        },
      ];
    }
    default:
      return [];
  }
}
