import type { ReloadResult, RunStrategyResult, StrategyList, StrategySummary } from '@weaver/shared/schemas';
import { useState } from 'react';
import useSWR, { useSWRConfig } from 'swr';
import { api } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { Dialog } from '../components/Dialog.tsx';
import { NewStrategyForm } from '../components/NewStrategyForm.tsx';
import { Notice } from '../components/Notice.tsx';
import { Badge, Panel } from '../components/Panel.tsx';
import { ParityPanel } from '../components/ParityPanel.tsx';
import { Async, errorMessage } from '../components/states.tsx';
import { type Column, Table } from '../components/Table.tsx';
import { ago, pnl, tone } from '../lib/format.ts';

const STATUS_KIND: Record<StrategySummary['status'], string> = {
  running: 'good',
  disabled: 'muted',
  halted: 'warn',
  error: 'bad',
};

export function StatusBadge({ s }: { s: Pick<StrategySummary, 'status' | 'statusReason'> }) {
  return (
    <span title={s.statusReason ?? undefined}>
      <Badge kind={STATUS_KIND[s.status]}>{s.status}</Badge>
    </span>
  );
}

/** Revalidates what a strategy change touches (its list, its detail page). */
export function useStrategyRevalidate() {
  const { mutate } = useSWRConfig();
  return () => mutate((key) => typeof key === 'string' && key.startsWith(routes.strategies));
}

/** The on/off switch: optimistic, rolled back when the gateway refuses. */
export function StrategyToggle({
  strategy,
  onError,
}: {
  strategy: Pick<StrategySummary, 'name' | 'enabled'>;
  onError: (message: string) => void;
}) {
  const { mutate } = useSWRConfig();
  const revalidate = useStrategyRevalidate();
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    const enabled = !strategy.enabled;
    setBusy(true);
    try {
      await mutate(
        routes.strategies,
        api(routes.strategy(strategy.name), { method: 'PATCH', body: { enabled } }).then(() => undefined),
        {
          optimisticData: (list?: StrategyList) =>
            list
              ? { items: list.items.map((s) => (s.name === strategy.name ? { ...s, enabled } : s)) }
              : (list as unknown as StrategyList),
          rollbackOnError: true,
          populateCache: false,
          revalidate: true,
        },
      );
    } catch (err) {
      onError(`${strategy.name}: ${errorMessage(err)}`);
    } finally {
      setBusy(false);
      void revalidate();
    }
  };
  return (
    <button
      type="button"
      role="switch"
      className="switch"
      aria-checked={strategy.enabled}
      aria-label={`${strategy.name} enabled`}
      disabled={busy}
      onClick={toggle}
    />
  );
}

export function RunNowButton({
  name,
  onResult,
}: {
  name: string;
  onResult: (ok: boolean, text: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const revalidate = useStrategyRevalidate();
  const { mutate } = useSWRConfig();
  const run = async () => {
    setBusy(true);
    try {
      const r = await api<RunStrategyResult>(routes.runStrategy(name), { method: 'POST' });
      onResult(
        true,
        r.signalIds.length
          ? `${name}: ${r.signalIds.length} new signal${r.signalIds.length === 1 ? '' : 's'}.`
          : `${name}: ran; no new signal on the latest bars.`,
      );
      void mutate((key) => typeof key === 'string' && key.startsWith(routes.signals));
    } catch (err) {
      onResult(false, `${name}: ${errorMessage(err)}`);
    } finally {
      setBusy(false);
      void revalidate();
    }
  };
  return (
    <button
      type="button"
      className="btn btn-small"
      onClick={run}
      disabled={busy}
      aria-label={`Run now: ${name}`}
    >
      {busy ? 'Running…' : 'Run now'}
    </button>
  );
}

/**
 * Delete with confirmation. The gateway refuses (409) while the strategy is enabled or its book holds an
 * open position or order; the dialog says so up front and shows the refusal if it comes anyway.
 */
export function DeleteStrategyButton({
  strategy,
  onResult,
}: {
  strategy: Pick<StrategySummary, 'name' | 'enabled' | 'openPositions'>;
  onResult: (ok: boolean, text: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const revalidate = useStrategyRevalidate();
  const blocked = strategy.enabled
    ? 'It is enabled: switch it off first.'
    : strategy.openPositions > 0
      ? `It holds ${strategy.openPositions} open position${strategy.openPositions === 1 ? '' : 's'}: close ${strategy.openPositions === 1 ? 'it' : 'them'} first.`
      : null;
  const confirm = async () => {
    setBusy(true);
    try {
      await api(routes.strategy(strategy.name), { method: 'DELETE' });
      onResult(true, `Deleted ${strategy.name}.`);
    } catch (err) {
      onResult(false, `${strategy.name}: ${errorMessage(err)}`);
    } finally {
      setBusy(false);
      setOpen(false);
      void revalidate();
    }
  };
  return (
    <>
      <button
        type="button"
        className="btn btn-small btn-danger-ghost"
        onClick={() => setOpen(true)}
        aria-label={`Delete ${strategy.name}`}
      >
        Delete
      </button>
      {open ? (
        <Dialog
          title={`Delete ${strategy.name}?`}
          onClose={() => setOpen(false)}
          actions={
            <>
              <button type="button" className="btn" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button
                type="button"
                className="btn btn-danger"
                onClick={confirm}
                disabled={busy || blocked !== null}
              >
                {busy ? 'Deleting…' : 'Delete strategy'}
              </button>
            </>
          }
        >
          {blocked ? (
            <p>{blocked}</p>
          ) : (
            <p>
              Its settings are removed. Its signals, orders and trades stay in the history under its name.
            </p>
          )}
        </Dialog>
      ) : null}
    </>
  );
}

export default function StrategiesPage() {
  const { data, error, mutate } = useSWR<StrategyList>(routes.strategies);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [reloading, setReloading] = useState(false);
  const [creating, setCreating] = useState(false);
  const say = (ok: boolean, text: string) => setMessage({ ok, text });

  const reload = async () => {
    setReloading(true);
    try {
      const r = await api<ReloadResult>(routes.reloadStrategies, { method: 'POST' });
      const errs = Object.entries(r.errors);
      say(
        errs.length === 0,
        `Loaded ${r.modules.length} module${r.modules.length === 1 ? '' : 's'}` +
          (errs.length ? `; failed: ${errs.map(([k, v]) => `${k} (${v})`).join(', ')}` : '.'),
      );
    } catch (err) {
      say(false, errorMessage(err));
    } finally {
      setReloading(false);
      void mutate();
    }
  };

  const columns: Column<StrategySummary>[] = [
    {
      key: 'enabled',
      header: 'On',
      cell: (s) => <StrategyToggle strategy={s} onError={(t) => say(false, t)} />,
    },
    {
      key: 'name',
      header: 'Strategy',
      sortValue: (s) => s.name,
      cell: (s) => (
        <a href={`#/strategies/${s.name}`}>
          <strong>{s.name}</strong>
        </a>
      ),
    },
    { key: 'status', header: 'Status', sortValue: (s) => s.status, cell: (s) => <StatusBadge s={s} /> },
    { key: 'module', header: 'Module', cell: (s) => s.module, secondary: true },
    {
      key: 'symbols',
      header: 'Symbols',
      cell: (s) =>
        `${s.symbols.slice(0, 4).join(', ')}${s.symbols.length > 4 ? ` +${s.symbols.length - 4}` : ''}`,
      secondary: true,
    },
    { key: 'tf', header: 'Timeframe', cell: (s) => s.timeframe, secondary: true },
    {
      key: 'rpnl',
      header: 'Realised',
      align: 'right',
      sortValue: (s) => Number(s.realizedPnl),
      cell: (s) => <span className={tone(s.realizedPnl)}>{pnl(s.realizedPnl)}</span>,
    },
    {
      key: 'upnl',
      header: 'Unrealised',
      align: 'right',
      sortValue: (s) => (s.unrealizedPnl === null ? null : Number(s.unrealizedPnl)),
      cell: (s) => <span className={tone(s.unrealizedPnl)}>{pnl(s.unrealizedPnl)}</span>,
    },
    {
      key: 'open',
      header: 'Open',
      align: 'right',
      sortValue: (s) => s.openPositions,
      cell: (s) => s.openPositions,
    },
    {
      key: 'signal',
      header: 'Last signal',
      secondary: true,
      cell: (s) =>
        s.lastSignal ? (
          <span title={s.lastSignal.reason ?? undefined}>
            <span className={s.lastSignal.side === 'buy' ? 'pos' : 'neg'}>{s.lastSignal.side}</span>{' '}
            {s.lastSignal.symbol} · {ago(s.lastSignal.createdAt)}
          </span>
        ) : (
          <span className="muted">none</span>
        ),
    },
    {
      key: 'run',
      header: <span className="sr-only">Actions</span>,
      align: 'right',
      cell: (s) => (
        <span className="row-actions">
          <RunNowButton name={s.name} onResult={say} />
          <DeleteStrategyButton strategy={s} onResult={say} />
        </span>
      ),
    },
  ];

  return (
    <div className="stack">
      <Panel
        title="Strategies"
        actions={
          <>
            <button
              type="button"
              className="btn btn-small btn-primary"
              onClick={() => setCreating(true)}
              disabled={creating}
            >
              New strategy
            </button>
            <button type="button" className="btn btn-small" onClick={reload} disabled={reloading}>
              {reloading ? 'Reloading…' : 'Reload modules'}
            </button>
          </>
        }
      >
        <Notice message={message} />
        {creating ? (
          <section className="new-strategy" aria-label="New strategy">
            <h3>New strategy</h3>
            <NewStrategyForm
              onCancel={() => setCreating(false)}
              onCreated={(s) => {
                setCreating(false);
                say(true, `Created ${s.name}${s.enabled ? '; it trades on the next bars' : ' (disabled)'}.`);
                void mutate();
              }}
            />
          </section>
        ) : null}
        <Async
          data={data}
          error={error}
          retry={() => mutate()}
          isEmpty={(d) => d.items.length === 0}
          empty="No strategies are configured yet. Create one with New strategy."
        >
          {(d) => (
            <Table
              caption="Strategies"
              columns={columns}
              rows={d.items}
              rowKey={(s) => s.name}
              initialSort={{ key: 'name', dir: 'asc' }}
            />
          )}
        </Async>
      </Panel>
      <ParityPanel strategies={data?.items ?? []} />
    </div>
  );
}
