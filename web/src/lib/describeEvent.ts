import type { EventEnvelope, EventPayload } from '@weaver/shared/schemas';
import { qty as fmtQty, pnl } from './format.ts';

export type EventTone = 'info' | 'good' | 'bad' | 'warn';

/** One line a trader can read for an event, and how loudly to show it. */
export function describeEvent(e: Pick<EventEnvelope, 'type' | 'payload'>): { text: string; tone: EventTone } {
  switch (e.type) {
    case 'bars.fetched': {
      const p = e.payload as EventPayload<'bars.fetched'>;
      return { text: `${p.count} ${p.timeframe} bars for ${p.symbols.join(', ')}`, tone: 'info' };
    }
    case 'signals.created': {
      const p = e.payload as EventPayload<'signals.created'>;
      return { text: `${p.signalIds.length} new signal${p.signalIds.length === 1 ? '' : 's'}`, tone: 'info' };
    }
    case 'orders.updated': {
      const p = e.payload as EventPayload<'orders.updated'>;
      const parts = p.orders.map(
        (o) => `${o.side} ${o.symbol} ${o.status.replace(/_/g, ' ')} (${o.strategy})`,
      );
      const bad = p.orders.some((o) => o.status === 'rejected' || o.status === 'failed');
      return { text: `Order ${parts.join('; ')}`, tone: bad ? 'bad' : 'info' };
    }
    case 'trades.recorded': {
      const p = e.payload as EventPayload<'trades.recorded'>;
      const parts = p.trades.map(
        (t) =>
          `${t.side === 'buy' ? 'Bought' : 'Sold'} ${fmtQty(t.qty)} ${t.symbol} @ ${t.price}` +
          (Number(t.realizedPnl) !== 0 ? `, P&L ${pnl(t.realizedPnl)}` : ''),
      );
      return { text: parts.join('; '), tone: 'good' };
    }
    case 'risk.halted': {
      const p = e.payload as EventPayload<'risk.halted'>;
      return { text: `Trading halted (${p.scope}): ${p.reason}`, tone: 'bad' };
    }
    case 'risk.resumed': {
      const p = e.payload as EventPayload<'risk.resumed'>;
      return { text: `Trading resumed (${p.scope})`, tone: 'good' };
    }
    case 'positions.drift': {
      const p = e.payload as EventPayload<'positions.drift'>;
      return {
        text: `Position drift on ${p.exchange} ${p.symbol}: expected ${p.expected}, exchange has ${p.actual}`,
        tone: 'warn',
      };
    }
    case 'protection.due': {
      const p = e.payload as EventPayload<'protection.due'>;
      return {
        text: `Checking the resting exits of ${p.books.map((b) => `${b.strategy} ${b.symbol}`).join(', ')}`,
        tone: 'info',
      };
    }
    case 'strategies.changed': {
      const p = e.payload as EventPayload<'strategies.changed'>;
      return { text: `Strategy ${p.name} ${p.change}`, tone: 'info' };
    }
    case 'backtests.progress': {
      const p = e.payload as EventPayload<'backtests.progress'>;
      return { text: `Backtest #${p.backtestId}: ${p.done}/${p.total}`, tone: 'info' };
    }
    case 'backtests.completed': {
      const p = e.payload as EventPayload<'backtests.completed'>;
      return {
        text: `Backtest #${p.backtestId} ${p.status}`,
        tone: p.status === 'completed' ? 'good' : 'bad',
      };
    }
    case 'functions.failed': {
      const p = e.payload as EventPayload<'functions.failed'>;
      return { text: `${p.functionName} failed: ${p.error}`, tone: 'bad' };
    }
    default:
      return { text: String((e as { type: string }).type), tone: 'info' };
  }
}
