import type { AccountSummary, CloseResult, EquityHistory, PositionView } from '@weaver/shared/schemas';
import { useMemo, useState } from 'react';
import useSWR, { useSWRConfig } from 'swr';
import { TRADING_ACTIVITY, useActivity } from '../api/activity.ts';
import { api, apiPath } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import type { PositionList } from '../api/types.ts';
import { toSeconds } from '../charts/series.ts';
import { ActivityList } from '../components/ActivityList.tsx';
import { Chart } from '../components/Chart.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { Badge, Panel, Stat } from '../components/Panel.tsx';
import { PnlCalendar } from '../components/PnlCalendar.tsx';
import { RestingExit } from '../components/RestingExit.tsx';
import { Async, ErrorState, errorMessage, Loading } from '../components/states.tsx';
import { type Column, Table } from '../components/Table.tsx';
import { ago, money, num, pnl, qty, tone } from '../lib/format.ts';

/** Revalidates everything a position change touches. */
export function usePositionMutations() {
  const { mutate } = useSWRConfig();
  return () =>
    mutate(
      (key) =>
        typeof key === 'string' &&
        ['/api/positions', '/api/account', '/api/orders', '/api/strategies'].some((p) => key.startsWith(p)),
    );
}

function AccountStats() {
  const { data, error, mutate } = useSWR<AccountSummary>(routes.account);
  if (error && !data) return <ErrorState error={error} retry={() => mutate()} />;
  if (!data) return <Loading label="Loading account…" />;
  return (
    <section className="stats" aria-label="Account">
      <Stat
        label="Equity"
        value={money(data.equity)}
        hint={
          <>
            {data.exchange}
            {data.source === 'snapshot' ? (
              <>
                {' '}
                <Badge kind="warn">snapshot {ago(data.at)}</Badge>
              </>
            ) : null}
          </>
        }
      />
      <Stat label="Cash" value={money(data.cash)} />
      <Stat label="Buying power" value={money(data.buyingPower)} />
      <Stat label="Day P&L" value={pnl(data.dayPnl)} tone={tone(data.dayPnl)} />
      <Stat
        label="Trading"
        value={data.halted ? <Badge kind="bad">halted</Badge> : <Badge kind="good">active</Badge>}
      />
    </section>
  );
}

function EquityCurve() {
  const { data, error, mutate } = useSWR<EquityHistory>(apiPath(routes.equity, { width: 600 }));
  const lines = useMemo(
    () =>
      data
        ? [
            {
              id: 'equity',
              title: 'Equity',
              color: '#38bdf8',
              area: true,
              money: true,
              data: data.points.map((p) => ({ time: toSeconds(p.time), value: Number(p.equity) })),
            },
          ]
        : [],
    [data],
  );
  return (
    <Async
      data={data}
      error={error}
      retry={() => mutate()}
      isEmpty={(d) => d.points.length < 2}
      empty="The equity curve starts after the first account snapshots are recorded."
    >
      {() => <Chart label="Account equity over time" height={260} lines={lines} />}
    </Async>
  );
}

function Positions() {
  const { data, error, mutate } = useSWR<PositionList>(routes.positions);
  const revalidate = usePositionMutations();
  const [closing, setClosing] = useState<PositionView | 'all' | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const confirm = async () => {
    if (!closing) return;
    setBusy(true);
    try {
      const res =
        closing === 'all'
          ? await api<CloseResult>(routes.closeAll, { method: 'POST', body: { confirm: true } })
          : await api<CloseResult>(routes.closePosition, {
              method: 'POST',
              body: { strategy: closing.strategy, symbol: closing.symbol },
            });
      setResult({
        ok: true,
        text: `Sent ${res.orders.length} closing order${res.orders.length === 1 ? '' : 's'}.`,
      });
    } catch (err) {
      setResult({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
      setClosing(null);
      void revalidate();
    }
  };

  const columns: Column<PositionView>[] = [
    { key: 'symbol', header: 'Symbol', cell: (p) => <strong>{p.symbol}</strong> },
    {
      key: 'strategy',
      header: 'Strategy',
      cell: (p) => <a href={`#/strategies/${p.strategy}`}>{p.strategy}</a>,
    },
    { key: 'qty', header: 'Qty', align: 'right', cell: (p) => qty(p.qty) },
    { key: 'avg', header: 'Avg price', align: 'right', cell: (p) => money(p.avgPrice), secondary: true },
    { key: 'last', header: 'Last', align: 'right', cell: (p) => num(p.lastPrice), secondary: true },
    { key: 'value', header: 'Value', align: 'right', cell: (p) => money(p.marketValue), secondary: true },
    {
      key: 'upnl',
      header: 'Unrealised',
      align: 'right',
      cell: (p) => <span className={tone(p.unrealizedPnl)}>{pnl(p.unrealizedPnl)}</span>,
    },
    { key: 'exit', header: 'Resting exit', cell: (p) => <RestingExit position={p} />, secondary: true },
    {
      key: 'close',
      header: <span className="sr-only">Actions</span>,
      align: 'right',
      cell: (p) => (
        <button
          type="button"
          className="btn btn-small btn-danger-ghost"
          onClick={() => setClosing(p)}
          aria-label={`Close ${p.symbol} position of ${p.strategy}`}
        >
          Close
        </button>
      ),
    },
  ];

  const open = data?.items.filter((p) => Number(p.qty) !== 0);
  return (
    <Panel
      title="Open positions"
      actions={
        open && open.length > 0 ? (
          <button type="button" className="btn btn-small btn-danger-ghost" onClick={() => setClosing('all')}>
            Close all
          </button>
        ) : null
      }
    >
      <Notice message={result} />
      <Async
        data={open}
        error={error}
        retry={() => mutate()}
        isEmpty={(d) => d.length === 0}
        empty="No open positions."
      >
        {(rows) => (
          <Table
            caption="Open positions"
            columns={columns}
            rows={rows}
            rowKey={(p) => `${p.strategy}:${p.symbol}`}
          />
        )}
      </Async>
      {closing ? (
        <Dialog
          title={closing === 'all' ? 'Close every position?' : `Close ${closing.symbol}?`}
          onClose={() => setClosing(null)}
          actions={
            <>
              <button type="button" className="btn" onClick={() => setClosing(null)}>
                Cancel
              </button>
              <button type="button" className="btn btn-danger" onClick={confirm} disabled={busy}>
                {busy ? 'Sending…' : 'Send market order'}
              </button>
            </>
          }
        >
          {closing === 'all'
            ? 'Market orders will flatten every open position of every strategy.'
            : `A market order will close ${qty(closing.qty)} ${closing.symbol} held by ${closing.strategy}.`}
        </Dialog>
      ) : null}
    </Panel>
  );
}

function Activity() {
  const { items, error, isLoading, retry } = useActivity({ limit: 15, types: TRADING_ACTIVITY });
  return (
    <Panel title="Latest activity" actions={<a href="#/system">Event log</a>}>
      {error && items.length === 0 ? (
        <ErrorState error={error} retry={retry} />
      ) : isLoading ? (
        <Loading />
      ) : items.length === 0 ? (
        <p className="state state-empty">Nothing has happened yet. Events appear here as they occur.</p>
      ) : (
        <ActivityList items={items} />
      )}
    </Panel>
  );
}

export function OverviewPage() {
  return (
    <div className="page-grid">
      <div className="span-all">
        <AccountStats />
      </div>
      <Panel title="Equity" className="span-2">
        <EquityCurve />
      </Panel>
      <Activity />
      <div className="span-2">
        <Positions />
      </div>
      <Panel title="P&L calendar">
        <PnlCalendar />
      </Panel>
    </div>
  );
}
