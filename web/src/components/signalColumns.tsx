import type { Signal } from '@weaver/shared/schemas';
import { dateTime, num } from '../lib/format.ts';
import type { Column } from './Table.tsx';

/** A signal as a table row; the strategy column only where several strategies are listed. */
export function signalColumns({ withStrategy }: { withStrategy: boolean }): Column<Signal>[] {
  return [
    { key: 'time', header: 'Bar', cell: (s) => dateTime(s.barTime) },
    { key: 'symbol', header: 'Symbol', cell: (s) => <strong>{s.symbol}</strong> },
    {
      key: 'side',
      header: 'Side',
      cell: (s) => <span className={s.side === 'buy' ? 'pos' : 'neg'}>{s.side}</span>,
    },
    { key: 'price', header: 'Price', align: 'right', cell: (s) => num(s.price) },
    {
      key: 'status',
      header: 'Status',
      cell: (s) => <span title={s.statusReason ?? undefined}>{s.status}</span>,
    },
    ...(withStrategy ? [{ key: 'strategy', header: 'Strategy', cell: (s: Signal) => s.strategy }] : []),
    // Why it was skipped or rejected when it was; otherwise why the strategy signalled.
    {
      key: 'reason',
      header: 'Reason',
      cell: (s) => s.statusReason ?? s.reason ?? '',
      secondary: true,
      wrap: true,
    },
  ];
}
