import {
  BacktestStatus,
  type BacktestSummary,
  type SweepPage,
  type SweepSummary,
} from '@weaver/shared/schemas';
import { useId, useState } from 'react';
import useSWR, { useSWRConfig } from 'swr';
import { api, apiPath } from '../api/client.ts';
import { useCursorPages } from '../api/pages.ts';
import { routes } from '../api/routes.ts';
import { navigate, type Route } from '../app/router.ts';
import { BacktestForm } from '../components/BacktestForm.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { PagedTable } from '../components/PagedTable.tsx';
import { Badge, Panel } from '../components/Panel.tsx';
import { Async, errorMessage } from '../components/states.tsx';
import { type Column, Table } from '../components/Table.tsx';
import { dateTime, num, pct, tone } from '../lib/format.ts';

/** `fast=5 slow=20`: parameters in a table cell. */
export function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** Queued and running show progress; finished show how they ended. */
export function BacktestState({ b }: { b: Pick<BacktestSummary, 'status' | 'progress' | 'error'> }) {
  if (b.status === 'queued' || b.status === 'running') {
    const percent = Math.round(b.progress * 100);
    return (
      <span className="progress-cell">
        <progress className="progress" max={100} value={percent} aria-label={`${b.status}, ${percent}%`} />
        <span>{b.status === 'queued' ? 'queued' : `${percent}%`}</span>
      </span>
    );
  }
  return (
    <span title={b.error ?? undefined}>
      <Badge kind={b.status === 'completed' ? 'good' : 'bad'}>{b.status}</Badge>
    </span>
  );
}

function Sweeps({ onShowRuns }: { onShowRuns: (sweepId: number) => void }) {
  const { data, error, mutate } = useSWR<SweepPage>(apiPath(routes.sweeps, { limit: 10 }));
  const columns: Column<SweepSummary>[] = [
    { key: 'id', header: '#', cell: (w) => w.id },
    { key: 'name', header: 'Name', cell: (w) => w.name ?? <span className="muted">sweep {w.id}</span> },
    {
      key: 'progress',
      header: 'Progress',
      cell: (w) =>
        w.status === 'completed' || w.status === 'failed' ? (
          <span title={w.error ?? undefined}>
            <Badge kind={w.status === 'completed' ? 'good' : 'bad'}>{w.status}</Badge>{' '}
            <span className="muted">
              {w.done}/{w.total}
              {w.failed ? `, ${w.failed} failed` : ''}
            </span>
          </span>
        ) : (
          <span className="progress-cell">
            <progress
              className="progress"
              max={Math.max(1, w.total)}
              value={w.done}
              aria-label={`${w.done} of ${w.total} runs`}
            />
            <span>
              {w.done}/{w.total}
            </span>
          </span>
        ),
    },
    { key: 'objective', header: 'Ranked by', cell: (w) => w.objective, secondary: true },
    {
      key: 'best',
      header: 'Best run',
      cell: (w) =>
        w.bestBacktestId ? <a href={`#/backtests/${w.bestBacktestId}`}>#{w.bestBacktestId}</a> : '—',
    },
    {
      key: 'runs',
      header: <span className="sr-only">Runs</span>,
      align: 'right',
      cell: (w) => (
        <button type="button" className="btn btn-small" onClick={() => onShowRuns(w.id)}>
          Runs
        </button>
      ),
    },
  ];
  if (data && data.items.length === 0) return null;
  return (
    <Panel title="Sweeps">
      <Async data={data} error={error} retry={() => mutate()}>
        {(d) => <Table caption="Sweeps" columns={columns} rows={d.items} rowKey={(w) => w.id} />}
      </Async>
    </Panel>
  );
}

function Results({ route }: { route: Route }) {
  const id = useId();
  const sweepId = route.query.get('sweep') ?? '';
  const [status, setStatus] = useState('');
  const pages = useCursorPages<BacktestSummary>(routes.backtests, { status, sweepId }, 50);
  const [selected, setSelected] = useState<number[]>([]);
  const [deleting, setDeleting] = useState<BacktestSummary | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const { mutate } = useSWRConfig();

  const toggle = (b: BacktestSummary) =>
    setSelected((s) => (s.includes(b.id) ? s.filter((x) => x !== b.id) : [...s, b.id].slice(-6)));

  const remove = async () => {
    if (!deleting) return;
    try {
      await api(routes.backtest(deleting.id), { method: 'DELETE' });
      setMessage({ ok: true, text: `Backtest #${deleting.id} deleted.` });
      setSelected((s) => s.filter((x) => x !== deleting.id));
    } catch (err) {
      setMessage({ ok: false, text: errorMessage(err) });
    } finally {
      setDeleting(null);
      void mutate((k) => typeof k === 'string' && k.startsWith(routes.backtests));
    }
  };

  const columns: Column<BacktestSummary>[] = [
    {
      key: 'pick',
      header: <span className="sr-only">Compare</span>,
      cell: (b) => (
        <input
          type="checkbox"
          checked={selected.includes(b.id)}
          onChange={() => toggle(b)}
          aria-label={`Compare backtest ${b.id}`}
          disabled={b.status !== 'completed'}
        />
      ),
    },
    {
      key: 'id',
      header: '#',
      sortValue: (b) => b.id,
      cell: (b) => <a href={`#/backtests/${b.id}`}>#{b.id}</a>,
    },
    {
      key: 'strategy',
      header: 'Strategy',
      sortValue: (b) => b.strategy,
      cell: (b) => (
        <span title={paramsText(b.params)}>
          {b.name ?? b.strategy}
          {b.role !== 'single' ? <span className="muted"> · {b.role.replace(/_/g, ' ')}</span> : null}
        </span>
      ),
    },
    {
      key: 'params',
      header: 'Parameters',
      cell: (b) => <code>{paramsText(b.params)}</code>,
      secondary: true,
    },
    {
      key: 'symbols',
      header: 'Symbols',
      cell: (b) => `${b.symbols.join(', ')} · ${b.timeframe}`,
      secondary: true,
    },
    { key: 'status', header: 'Status', sortValue: (b) => b.status, cell: (b) => <BacktestState b={b} /> },
    {
      key: 'return',
      header: 'Return',
      align: 'right',
      sortValue: (b) => b.totalReturn,
      cell: (b) => <span className={tone(b.totalReturn)}>{pct(b.totalReturn)}</span>,
    },
    {
      key: 'sharpe',
      header: 'Sharpe',
      align: 'right',
      sortValue: (b) => b.sharpe,
      cell: (b) => num(b.sharpe),
    },
    {
      key: 'dd',
      header: 'Max DD',
      align: 'right',
      sortValue: (b) => b.maxDrawdown,
      cell: (b) => (b.maxDrawdown === null ? '—' : pct(-Math.abs(b.maxDrawdown))),
    },
    {
      key: 'trades',
      header: 'Trades',
      align: 'right',
      sortValue: (b) => b.trades,
      cell: (b) => b.trades ?? '—',
    },
    {
      key: 'created',
      header: 'Created',
      sortValue: (b) => b.createdAt,
      cell: (b) => dateTime(b.createdAt),
      secondary: true,
    },
    {
      key: 'delete',
      header: <span className="sr-only">Actions</span>,
      align: 'right',
      cell: (b) => (
        <button
          type="button"
          className="btn btn-small btn-danger-ghost"
          onClick={() => setDeleting(b)}
          aria-label={`Delete backtest ${b.id}`}
        >
          Delete
        </button>
      ),
    },
  ];

  return (
    <Panel
      title="Results"
      actions={
        <button
          type="button"
          className="btn btn-small btn-primary"
          disabled={selected.length < 2}
          onClick={() => navigate('/backtests/compare', { ids: selected.join(',') })}
        >
          Compare{selected.length ? ` (${selected.length})` : ''}
        </button>
      }
    >
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            {BacktestStatus.options.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        {sweepId ? (
          <p className="muted" style={{ alignSelf: 'center', margin: 0 }}>
            Runs of sweep #{sweepId} · <a href="#/backtests">all backtests</a>
          </p>
        ) : null}
        <span className="spacer" />
        <span className="muted" style={{ alignSelf: 'center' }}>
          Tick completed runs to compare them side by side.
        </span>
      </div>
      <Notice message={message} />
      <PagedTable
        pages={pages}
        caption="Backtests"
        columns={columns}
        rowKey={(b) => b.id}
        empty="No backtests yet. Run one above."
        initialSort={{ key: 'id', dir: 'desc' }}
      />
      {deleting ? (
        <Dialog
          title={`Delete backtest #${deleting.id}?`}
          onClose={() => setDeleting(null)}
          actions={
            <>
              <button type="button" className="btn" onClick={() => setDeleting(null)}>
                Cancel
              </button>
              <button type="button" className="btn btn-danger" onClick={remove}>
                Delete
              </button>
            </>
          }
        >
          Its metrics, trades and curves are removed for good.
        </Dialog>
      ) : null}
    </Panel>
  );
}

export default function BacktestsPage({ route }: { route: Route }) {
  return (
    <div className="stack">
      <Panel title="New backtest">
        <BacktestForm />
      </Panel>
      <Sweeps onShowRuns={(sweepId) => navigate('/backtests', { sweep: String(sweepId) })} />
      <Results route={route} />
    </div>
  );
}
