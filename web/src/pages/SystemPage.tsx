import {
  EVENT_TYPES,
  type EventType,
  type FunctionHealth,
  type FunctionRun,
  type HaltResult,
  type HaltStatus,
  RunOutcome,
  type SystemStatus,
} from '@weaver/shared/schemas';
import { useId, useState } from 'react';
import useSWR, { useSWRConfig } from 'swr';
import { useActivity } from '../api/activity.ts';
import { api, apiPath } from '../api/client.ts';
import { useCursorPages } from '../api/pages.ts';
import { routes } from '../api/routes.ts';
import { ActivityList } from '../components/ActivityList.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { PagedTable } from '../components/PagedTable.tsx';
import { Badge, Panel, Stat } from '../components/Panel.tsx';
import { RiskLimitsPanel } from '../components/RiskLimitsForm.tsx';
import { Async, ErrorState, errorMessage, Loading } from '../components/states.tsx';
import { type Column, Table } from '../components/Table.tsx';
import { ago, dateTime, duration } from '../lib/format.ts';

const HEALTH_KIND: Record<FunctionHealth['health'], string> = {
  ok: 'good',
  failing: 'bad',
  stale: 'warn',
  idle: 'muted',
};
const OUTCOME_KIND: Record<FunctionRun['outcome'], string> = {
  ok: 'good',
  error: 'bad',
  rejected: 'warn',
  running: 'info',
};

function KillSwitch() {
  const id = useId();
  const { data, error, mutate } = useSWR<HaltStatus>(routes.killSwitch);
  const { mutate: mutateAll } = useSWRConfig();
  const [dialog, setDialog] = useState<'halt' | 'resume' | null>(null);
  const [reason, setReason] = useState('');
  const [flatten, setFlatten] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const act = async () => {
    setBusy(true);
    try {
      if (dialog === 'halt') {
        const r = await api<HaltResult>(routes.killSwitch, {
          method: 'POST',
          body: { reason: reason.trim() || 'kill switch', flatten },
        });
        setMessage({
          ok: true,
          text:
            `Trading halted. ${r.canceledOrders} open order${r.canceledOrders === 1 ? '' : 's'} canceled` +
            (flatten
              ? `, ${r.flattenOrders.length} closing order${r.flattenOrders.length === 1 ? '' : 's'} sent.`
              : '.'),
        });
      } else {
        await api(routes.killSwitch, { method: 'DELETE' });
        setMessage({ ok: true, text: 'Trading resumed.' });
      }
    } catch (err) {
      setMessage({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
      setDialog(null);
      void mutateAll(
        (k) =>
          typeof k === 'string' &&
          [
            routes.killSwitch,
            routes.system,
            routes.account,
            routes.orders,
            routes.strategies,
            routes.positions,
          ].some((p) => k.startsWith(p)),
      );
    }
  };

  const global = data?.halts.find((h) => h.scope === 'global');
  return (
    <Panel title="Kill switch">
      {error && !data ? <ErrorState error={error} retry={() => mutate()} /> : null}
      {!data && !error ? <Loading /> : null}
      {data ? (
        <div className="stack">
          <div className="kill-switch">
            <span className={`kill-state ${data.halted ? 'neg' : 'pos'}`}>
              {data.halted ? 'Trading halted' : 'Trading active'}
            </span>
            <span className="spacer" />
            {global ? (
              <button type="button" className="btn btn-primary" onClick={() => setDialog('resume')}>
                Release kill switch
              </button>
            ) : (
              <button type="button" className="btn btn-danger" onClick={() => setDialog('halt')}>
                Halt trading
              </button>
            )}
          </div>
          {data.halts.length > 0 ? (
            <ul className="muted" style={{ margin: 0, paddingLeft: 18 }}>
              {data.halts.map((h) => (
                <li key={h.id}>
                  <strong>{h.scope}</strong>: {h.reason} — since {dateTime(h.createdAt)}
                  {h.until ? `, until ${dateTime(h.until)}` : ''}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted" style={{ margin: 0 }}>
              Halting stops new orders and cancels open ones. Positions are kept unless you ask to flatten
              them.
            </p>
          )}
          <Notice message={message} />
        </div>
      ) : null}
      {dialog ? (
        <Dialog
          title={dialog === 'halt' ? 'Halt all trading?' : 'Resume trading?'}
          onClose={() => setDialog(null)}
          actions={
            <>
              <button type="button" className="btn" onClick={() => setDialog(null)}>
                Cancel
              </button>
              <button
                type="button"
                className={dialog === 'halt' ? 'btn btn-danger' : 'btn btn-primary'}
                onClick={act}
                disabled={busy}
              >
                {busy ? 'Working…' : dialog === 'halt' ? 'Halt trading' : 'Resume trading'}
              </button>
            </>
          }
        >
          {dialog === 'halt' ? (
            <>
              No strategy or manual order will be sent and every open order is canceled.
              <div className="field">
                <label htmlFor={`${id}-reason`}>Reason</label>
                <input
                  id={`${id}-reason`}
                  value={reason}
                  placeholder="kill switch"
                  onChange={(e) => setReason(e.target.value)}
                />
              </div>
              <div className="field">
                <label className="check" htmlFor={`${id}-flatten`}>
                  <input
                    id={`${id}-flatten`}
                    type="checkbox"
                    checked={flatten}
                    onChange={(e) => setFlatten(e.target.checked)}
                  />
                  Also close every position with market orders
                </label>
              </div>
            </>
          ) : (
            'Strategies that are enabled will place orders again on their next signal.'
          )}
        </Dialog>
      ) : null}
    </Panel>
  );
}

function Infrastructure({ status }: { status: SystemStatus }) {
  const db = status.database;
  const bus = status.bus;
  return (
    <div className="stats">
      <Stat
        label="Database"
        value={db.ok ? <Badge kind="good">ok</Badge> : <Badge kind="bad">down</Badge>}
        hint={db.ok ? `${db.latencyMs?.toFixed(1) ?? '?'} ms · ${db.version ?? ''}` : db.error}
      />
      <Stat
        label={`Bus (${bus.mode})`}
        value={bus.ok ? <Badge kind="good">ok</Badge> : <Badge kind="bad">down</Badge>}
        hint={bus.ok ? (bus.rttMs !== null ? `rtt ${bus.rttMs.toFixed(1)} ms` : 'in-process') : bus.error}
      />
      <Stat
        label="Stream messages"
        value={bus.stream ? bus.stream.messages.toLocaleString('en-US') : '—'}
        hint={
          bus.stream
            ? `${bus.stream.name} · seq ${bus.stream.lastSeq} · ${bus.stream.consumers} consumers`
            : 'no stream'
        }
      />
      <Stat
        label="Functions"
        value={`${status.functions.filter((f) => f.health === 'ok').length}/${status.functions.length} ok`}
        hint={`as of ${dateTime(status.time)}`}
      />
    </div>
  );
}

const functionColumns: Column<FunctionHealth>[] = [
  { key: 'name', header: 'Function', sortValue: (f) => f.name, cell: (f) => <strong>{f.name}</strong> },
  {
    key: 'health',
    header: 'Health',
    sortValue: (f) => f.health,
    cell: (f) => <Badge kind={HEALTH_KIND[f.health]}>{f.health}</Badge>,
  },
  {
    key: 'last',
    header: 'Last run',
    sortValue: (f) => f.lastRun?.startedAt ?? null,
    cell: (f) =>
      f.lastRun ? (
        <span title={dateTime(f.lastRun.startedAt)}>
          {ago(f.lastRun.startedAt)} <Badge kind={OUTCOME_KIND[f.lastRun.outcome]}>{f.lastRun.outcome}</Badge>
        </span>
      ) : (
        <span className="muted">never</span>
      ),
  },
  { key: 'runs', header: 'Runs 24h', align: 'right', sortValue: (f) => f.runs24h, cell: (f) => f.runs24h },
  {
    key: 'errors',
    header: 'Errors 24h',
    align: 'right',
    sortValue: (f) => f.errors24h,
    cell: (f) => <span className={f.errors24h ? 'neg' : ''}>{f.errors24h}</span>,
  },
  {
    key: 'trigger',
    header: 'Trigger',
    wrap: true,
    cell: (f) =>
      f.trigger === 'cron' ? (
        <code>{f.schedule}</code>
      ) : f.trigger === 'topic' ? (
        <span>{f.topics.join(', ')}</span>
      ) : (
        'http'
      ),
  },
  {
    key: 'lastError',
    header: 'Last error',
    secondary: true,
    wrap: true,
    cell: (f) =>
      f.lastError ? (
        <span className="neg" title={f.lastError.error}>
          {ago(f.lastError.at)}: {f.lastError.error.slice(0, 60)}
          {f.lastError.error.length > 60 ? '…' : ''}
        </span>
      ) : (
        ''
      ),
  },
];

function RecentRuns({ functions }: { functions: string[] }) {
  const id = useId();
  const [fn, setFn] = useState('');
  const [outcome, setOutcome] = useState('');
  const pages = useCursorPages<FunctionRun>(routes.runs, { function: fn, outcome }, 25);
  const columns: Column<FunctionRun>[] = [
    { key: 'started', header: 'Started', cell: (r) => dateTime(r.startedAt) },
    { key: 'fn', header: 'Function', cell: (r) => r.functionName },
    {
      key: 'outcome',
      header: 'Outcome',
      cell: (r) => <Badge kind={OUTCOME_KIND[r.outcome]}>{r.outcome}</Badge>,
    },
    {
      key: 'took',
      header: 'Took',
      align: 'right',
      cell: (r) =>
        r.finishedAt ? duration(new Date(r.finishedAt).getTime() - new Date(r.startedAt).getTime()) : '…',
    },
    { key: 'trigger', header: 'Trigger', cell: (r) => r.trigger ?? '', secondary: true },
    {
      key: 'error',
      header: 'Error',
      cell: (r) => (r.error ? <span className="neg">{r.error}</span> : ''),
      secondary: true,
    },
  ];
  return (
    <Panel title="Recent runs">
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-fn`}>Function</label>
          <select id={`${id}-fn`} value={fn} onChange={(e) => setFn(e.target.value)}>
            <option value="">any</option>
            {functions.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-outcome`}>Outcome</label>
          <select id={`${id}-outcome`} value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">any</option>
            {RunOutcome.options.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </div>
      </div>
      <PagedTable
        pages={pages}
        caption="Recent function runs"
        columns={columns}
        rowKey={(r) => r.id}
        empty="No runs match."
      />
    </Panel>
  );
}

function EventLog() {
  const id = useId();
  const [type, setType] = useState<EventType | ''>('');
  const [search, setSearch] = useState('');
  const { items, error, isLoading, retry, status } = useActivity({
    limit: 200,
    types: type ? [type] : undefined,
  });
  const q = search.trim().toLowerCase();
  const shown = q
    ? items.filter(
        (i) =>
          i.correlationId.toLowerCase().includes(q) || JSON.stringify(i.payload).toLowerCase().includes(q),
      )
    : items;
  return (
    <Panel title="Event log" actions={<span className="muted">stream {status}</span>}>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-type`}>Type</label>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as EventType | '')}>
            <option value="">all events</option>
            {EVENT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-search`}>Search</label>
          <input
            id={`${id}-search`}
            type="search"
            value={search}
            placeholder="symbol, id, correlation…"
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
      </div>
      {error && items.length === 0 ? (
        <ErrorState error={error} retry={retry} />
      ) : isLoading ? (
        <Loading />
      ) : shown.length === 0 ? (
        <p className="state state-empty">No events match.</p>
      ) : (
        <div className="activity-long">
          <ActivityList items={shown} showType />
        </div>
      )}
    </Panel>
  );
}

export default function SystemPage() {
  const { data, error, mutate } = useSWR<SystemStatus>(apiPath(routes.system), { refreshInterval: 15_000 });
  return (
    <div className="stack">
      <KillSwitch />
      <RiskLimitsPanel />
      <Async data={data} error={error} retry={() => mutate()} loadingLabel="Checking the system…">
        {(s) => (
          <>
            <Infrastructure status={s} />
            <Panel title="Functions">
              {s.functions.length === 0 ? (
                <p className="state state-empty">No functions found in stack.yml.</p>
              ) : (
                <Table
                  caption="Functions"
                  columns={functionColumns}
                  rows={s.functions}
                  rowKey={(f) => f.name}
                  initialSort={{ key: 'name', dir: 'asc' }}
                />
              )}
            </Panel>
            <div className="page-grid two">
              <RecentRuns functions={s.functions.map((f) => f.name)} />
              <EventLog />
            </div>
          </>
        )}
      </Async>
    </div>
  );
}
