import {
  isFinalStatus,
  ORDER_STATUSES,
  type Order,
  Side,
  type Signal,
  SignalStatus,
  type Trade,
} from '@weaver/shared/schemas';
import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { useSWRConfig } from 'swr';
import { api } from '../api/client.ts';
import { fetchAll, useCursorPages } from '../api/pages.ts';
import { routes } from '../api/routes.ts';
import { navigate, type Route } from '../app/router.ts';
import { ManualOrderDialog } from '../components/ManualOrderDialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { PagedTable } from '../components/PagedTable.tsx';
import { Badge, Panel } from '../components/Panel.tsx';
import { signalColumns } from '../components/signalColumns.tsx';
import { errorMessage } from '../components/states.tsx';
import type { Column } from '../components/Table.tsx';
import { download, toCsv } from '../lib/csv.ts';
import { dateTime, money, pnl, qty, tone } from '../lib/format.ts';
import { orderKindText, stopRuleText } from '../lib/orderText.ts';

type Tab = 'orders' | 'trades' | 'signals';
const TABS: Array<{ id: Tab; label: string }> = [
  { id: 'orders', label: 'Orders' },
  { id: 'trades', label: 'Trades' },
  { id: 'signals', label: 'Signals' },
];
const PAGE_SIZE = 50;

/** The filters live in the URL, so a filtered view can be bookmarked and the back button undoes a change. */
function useFilters(route: Route, tab: Tab) {
  const get = (k: string) => route.query.get(k) ?? '';
  const filters = {
    status: get('status'),
    symbol: get('symbol'),
    strategy: get('strategy'),
    side: get('side'),
    from: get('from'),
    to: get('to'),
  };
  const set = (patch: Partial<typeof filters>) => navigate('/orders', { tab, ...filters, ...patch }, true);
  return { filters, set };
}

function statusKind(s: Order['status']): string {
  if (s === 'filled') return 'good';
  if (s === 'rejected' || s === 'failed') return 'bad';
  if (s === 'canceled' || s === 'expired' || s === 'replaced') return 'muted';
  return 'warn';
}

function FilterBar({
  tab,
  filters,
  set,
  children,
}: {
  tab: Tab;
  filters: Record<string, string>;
  set: (patch: Record<string, string>) => void;
  children?: ReactNode;
}) {
  const id = useId();
  const [draft, setDraft] = useState(filters);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    set({ ...draft, symbol: draft.symbol.trim().toUpperCase(), strategy: draft.strategy.trim() });
  };
  const field = (name: string, label: string, input: ReactNode) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      {input}
    </div>
  );
  const text = (name: keyof typeof draft, placeholder: string) => (
    <input
      id={`${id}-${name}`}
      value={draft[name]}
      placeholder={placeholder}
      onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
    />
  );
  return (
    <form className="filters" onSubmit={apply} aria-label="Filters">
      {tab !== 'trades'
        ? field(
            'status',
            'Status',
            <select
              id={`${id}-status`}
              value={draft.status}
              onChange={(e) => setDraft({ ...draft, status: e.target.value })}
            >
              <option value="">any</option>
              {tab === 'orders' ? (
                <>
                  <option value="open">open</option>
                  <option value="closed">closed</option>
                  {ORDER_STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {s.replace(/_/g, ' ')}
                    </option>
                  ))}
                </>
              ) : (
                SignalStatus.options.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))
              )}
            </select>,
          )
        : null}
      {field('symbol', 'Symbol', text('symbol', 'AAPL'))}
      {field('strategy', 'Strategy', text('strategy', 'any'))}
      {tab !== 'signals'
        ? field(
            'side',
            'Side',
            <select
              id={`${id}-side`}
              value={draft.side}
              onChange={(e) => setDraft({ ...draft, side: e.target.value })}
            >
              <option value="">any</option>
              {Side.options.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>,
          )
        : null}
      {field(
        'from',
        'From',
        <input
          id={`${id}-from`}
          type="date"
          value={draft.from}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />,
      )}
      {field(
        'to',
        'To',
        <input
          id={`${id}-to`}
          type="date"
          value={draft.to}
          onChange={(e) => setDraft({ ...draft, to: e.target.value })}
        />,
      )}
      <button type="submit" className="btn btn-primary">
        Apply
      </button>
      <button
        type="button"
        className="btn btn-ghost"
        onClick={() => {
          const empty = { status: '', symbol: '', strategy: '', side: '', from: '', to: '' };
          setDraft(empty);
          set(empty);
        }}
      >
        Clear
      </button>
      <span className="spacer" />
      {children}
    </form>
  );
}

function ExportButton<T>({
  path,
  filters,
  name,
  columns,
}: {
  path: string;
  filters: Record<string, string>;
  name: string;
  columns: Array<{ header: string; value: (row: T) => unknown }>;
}) {
  const [state, setState] = useState<string | null>(null);
  const run = async () => {
    setState('Exporting…');
    try {
      const { rows, truncated } = await fetchAll<T>(path, filters, (n) => setState(`Exporting… ${n} rows`));
      download(
        `weaver-${name}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`,
        toCsv(rows, columns),
      );
      setState(`Exported ${rows.length} rows${truncated ? ' (truncated at 100,000)' : ''}.`);
    } catch (err) {
      setState(`Export failed: ${errorMessage(err)}`);
    }
  };
  return (
    <>
      <span role="status" className="muted">
        {state ?? ''}
      </span>
      <button type="button" className="btn" onClick={run} disabled={state?.startsWith('Exporting') ?? false}>
        Export CSV
      </button>
    </>
  );
}

/**
 * What an order is, with its prices: "stop $98.80", "oco: stop $98.80 · target $114.40". A position's
 * resting exit (its stop-loss / take-profit / trailing stop at the venue) is marked "protective".
 */
function OrderKind({ order: o }: { order: Order }) {
  const rule = stopRuleText(o.stopRule);
  return (
    <span>
      {orderKindText(o)}
      {o.protective ? (
        <>
          {' '}
          <span
            title={
              rule ? `The position's resting exit; its stop is the ${rule}` : "The position's resting exit"
            }
          >
            <Badge kind="info">protective</Badge>
          </span>
        </>
      ) : null}
    </span>
  );
}

function OrdersTab({ route }: { route: Route }) {
  const { filters, set } = useFilters(route, 'orders');
  const pages = useCursorPages<Order>(routes.orders, filters, PAGE_SIZE);
  const { mutate } = useSWRConfig();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [placing, setPlacing] = useState(false);

  const cancel = async (o: Order) => {
    try {
      await api(routes.cancelOrder(o.id), { method: 'POST' });
      setMessage({ ok: true, text: `Cancel requested for order #${o.id}.` });
    } catch (err) {
      setMessage({ ok: false, text: `Order #${o.id}: ${errorMessage(err)}` });
    } finally {
      void mutate((k) => typeof k === 'string' && k.startsWith(routes.orders));
    }
  };

  const columns: Column<Order>[] = [
    { key: 'created', header: 'Created', cell: (o) => dateTime(o.createdAt) },
    { key: 'symbol', header: 'Symbol', cell: (o) => <strong>{o.symbol}</strong> },
    {
      key: 'side',
      header: 'Side',
      cell: (o) => <span className={o.side === 'buy' ? 'pos' : 'neg'}>{o.side}</span>,
    },
    { key: 'type', header: 'Type', cell: (o) => <OrderKind order={o} />, secondary: true },
    { key: 'qty', header: 'Qty', align: 'right', cell: (o) => (o.qty ? qty(o.qty) : money(o.notional)) },
    { key: 'filled', header: 'Filled', align: 'right', cell: (o) => qty(o.filledQty) },
    {
      key: 'avg',
      header: 'Avg price',
      align: 'right',
      cell: (o) => money(o.filledAvgPrice),
      secondary: true,
    },
    {
      key: 'status',
      header: 'Status',
      cell: (o) => (
        <span title={o.errorMessage ?? undefined}>
          <Badge kind={statusKind(o.status)}>{o.status.replace(/_/g, ' ')}</Badge>
        </span>
      ),
    },
    { key: 'strategy', header: 'Strategy', cell: (o) => o.strategy, secondary: true },
    { key: 'coid', header: 'Client order id', cell: (o) => <code>{o.clientOrderId}</code>, secondary: true },
    {
      key: 'actions',
      header: <span className="sr-only">Actions</span>,
      align: 'right',
      cell: (o) =>
        isFinalStatus(o.status) ? null : (
          <button
            type="button"
            className="btn btn-small btn-danger-ghost"
            onClick={() => cancel(o)}
            aria-label={`Cancel order ${o.id}`}
          >
            Cancel
          </button>
        ),
    },
  ];

  return (
    <>
      <FilterBar tab="orders" filters={filters} set={set}>
        <ExportButton<Order>
          path={routes.orders}
          filters={filters}
          name="orders"
          columns={[
            { header: 'id', value: (o) => o.id },
            { header: 'created_at', value: (o) => o.createdAt },
            { header: 'client_order_id', value: (o) => o.clientOrderId },
            { header: 'exchange', value: (o) => o.exchange },
            { header: 'exchange_order_id', value: (o) => o.exchangeOrderId },
            { header: 'strategy', value: (o) => o.strategy },
            { header: 'symbol', value: (o) => o.symbol },
            { header: 'side', value: (o) => o.side },
            { header: 'type', value: (o) => o.type },
            { header: 'order_class', value: (o) => o.orderClass },
            { header: 'protective', value: (o) => (o.protective ? 'yes' : 'no') },
            { header: 'time_in_force', value: (o) => o.timeInForce },
            { header: 'qty', value: (o) => o.qty },
            { header: 'notional', value: (o) => o.notional },
            { header: 'limit_price', value: (o) => o.limitPrice },
            { header: 'stop_price', value: (o) => o.stopPrice },
            { header: 'status', value: (o) => o.status },
            { header: 'filled_qty', value: (o) => o.filledQty },
            { header: 'filled_avg_price', value: (o) => o.filledAvgPrice },
            { header: 'error', value: (o) => o.errorMessage },
          ]}
        />
        <button type="button" className="btn" onClick={() => setPlacing(true)}>
          New order
        </button>
      </FilterBar>
      <Notice message={message} />
      <PagedTable
        pages={pages}
        caption="Orders"
        columns={columns}
        rowKey={(o) => o.id}
        empty="No orders match these filters."
      />
      {placing ? (
        <ManualOrderDialog
          onClose={() => setPlacing(false)}
          onPlaced={(o, outcome) => {
            setPlacing(false);
            // `exists`: this dialog's order was already placed (a retried click); anything else is news.
            setMessage({
              ok: outcome === 'ordered' || outcome === 'exists',
              text:
                `Order #${o.id} ${o.side} ${o.symbol}: ${o.status.replace(/_/g, ' ')}` +
                (outcome === 'ordered' ? '.' : ` (${outcome}).`),
            });
            void mutate(
              (k) => typeof k === 'string' && (k.startsWith(routes.orders) || k.startsWith(routes.positions)),
            );
          }}
        />
      ) : null}
    </>
  );
}

function TradesTab({ route }: { route: Route }) {
  const { filters, set } = useFilters(route, 'trades');
  const { status: _ignored, ...tradeFilters } = filters;
  const pages = useCursorPages<Trade>(routes.trades, tradeFilters, PAGE_SIZE);
  const columns: Column<Trade>[] = [
    { key: 'time', header: 'Executed', cell: (t) => dateTime(t.executedAt) },
    { key: 'symbol', header: 'Symbol', cell: (t) => <strong>{t.symbol}</strong> },
    {
      key: 'side',
      header: 'Side',
      cell: (t) => <span className={t.side === 'buy' ? 'pos' : 'neg'}>{t.side}</span>,
    },
    { key: 'qty', header: 'Qty', align: 'right', cell: (t) => qty(t.qty) },
    { key: 'price', header: 'Price', align: 'right', cell: (t) => money(t.price) },
    { key: 'fee', header: 'Fee', align: 'right', cell: (t) => money(t.fee), secondary: true },
    {
      key: 'pnl',
      header: 'Realised P&L',
      align: 'right',
      cell: (t) => <span className={tone(t.realizedPnl)}>{pnl(t.realizedPnl)}</span>,
    },
    {
      key: 'pos',
      header: 'Position after',
      align: 'right',
      cell: (t) => qty(t.positionAfter),
      secondary: true,
    },
    { key: 'strategy', header: 'Strategy', cell: (t) => t.strategy, secondary: true },
  ];
  return (
    <>
      <FilterBar tab="trades" filters={filters} set={set}>
        <ExportButton<Trade>
          path={routes.trades}
          filters={tradeFilters}
          name="trades"
          columns={[
            { header: 'id', value: (t) => t.id },
            { header: 'executed_at', value: (t) => t.executedAt },
            { header: 'order_id', value: (t) => t.orderId },
            { header: 'strategy', value: (t) => t.strategy },
            { header: 'symbol', value: (t) => t.symbol },
            { header: 'side', value: (t) => t.side },
            { header: 'qty', value: (t) => t.qty },
            { header: 'price', value: (t) => t.price },
            { header: 'fee', value: (t) => t.fee },
            { header: 'realized_pnl', value: (t) => t.realizedPnl },
            { header: 'position_after', value: (t) => t.positionAfter },
          ]}
        />
      </FilterBar>
      <PagedTable
        pages={pages}
        caption="Trades"
        columns={columns}
        rowKey={(t) => t.id}
        empty="No trades match these filters."
      />
    </>
  );
}

function SignalsTab({ route }: { route: Route }) {
  const { filters, set } = useFilters(route, 'signals');
  const { side: _ignored, ...signalFilters } = filters;
  const pages = useCursorPages<Signal>(routes.signals, signalFilters, PAGE_SIZE);
  const columns = signalColumns({ withStrategy: true });
  return (
    <>
      <FilterBar tab="signals" filters={filters} set={set}>
        <ExportButton<Signal>
          path={routes.signals}
          filters={signalFilters}
          name="signals"
          columns={[
            { header: 'id', value: (s) => s.id },
            { header: 'bar_time', value: (s) => s.barTime },
            { header: 'strategy', value: (s) => s.strategy },
            { header: 'symbol', value: (s) => s.symbol },
            { header: 'timeframe', value: (s) => s.timeframe },
            { header: 'side', value: (s) => s.side },
            { header: 'price', value: (s) => s.price },
            { header: 'status', value: (s) => s.status },
            { header: 'reason', value: (s) => s.reason },
          ]}
        />
      </FilterBar>
      <PagedTable
        pages={pages}
        caption="Signals"
        columns={columns}
        rowKey={(s) => s.id}
        empty="No signals match these filters."
      />
    </>
  );
}

export default function OrdersPage({ route }: { route: Route }) {
  const tab = (TABS.find((t) => t.id === route.query.get('tab'))?.id ?? 'orders') as Tab;
  const panelId = useId();
  return (
    <Panel title="History">
      <div className="segmented" role="tablist" aria-label="Lists">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`${panelId}-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`${panelId}-panel`}
            onClick={() => navigate('/orders', { tab: t.id })}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${panelId}-panel`} aria-labelledby={`${panelId}-${tab}`} className="tabpanel">
        {tab === 'orders' ? <OrdersTab key="o" route={route} /> : null}
        {tab === 'trades' ? <TradesTab key="t" route={route} /> : null}
        {tab === 'signals' ? <SignalsTab key="s" route={route} /> : null}
      </div>
    </Panel>
  );
}
