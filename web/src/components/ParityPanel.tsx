import type { AccountSummary, ParityDifference, ParityReport, StrategyParity } from '@weaver/shared/schemas';
import { type FormEvent, useId, useState } from 'react';
import useSWR from 'swr';
import { apiPath } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { dateTime, num } from '../lib/format.ts';
import { Badge, Panel } from './Panel.tsx';
import { Async } from './states.tsx';
import { type Column, Table } from './Table.tsx';

/** Rows shown per strategy at first, and at most: a long period that went badly can differ thousands of times. */
const FIRST_ROWS = 50;
const MAX_ROWS = 1000;

/** A cause without its figures ("slippage against the simulated price: 101.2 live vs…" → its head). */
const causeKind = (cause: string | null): string => (cause ? cause.split(':')[0] : 'unknown');

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function side(x: ParityDifference['live']): string {
  if (!x) return '—';
  if ('qty' in x) return `${x.side} ${num(x.qty)} @ ${num(x.price)}`;
  return `${x.side} @ ${num(x.price)}${x.status ? ` (${x.status})` : ''}`;
}

const columns: Column<ParityDifference>[] = [
  { key: 'bar', header: 'Bar', sortValue: (d) => d.barTime, cell: (d) => dateTime(d.barTime) },
  { key: 'symbol', header: 'Symbol', cell: (d) => d.symbol, secondary: true },
  {
    key: 'kind',
    header: 'Kind',
    sortValue: (d) => d.kind,
    cell: (d) => <Badge kind={d.kind === 'signal' ? 'muted' : 'warn'}>{d.kind}</Badge>,
  },
  { key: 'live', header: 'Live', cell: (d) => side(d.live) },
  { key: 'backtest', header: 'Backtest', cell: (d) => side(d.backtest) },
  {
    key: 'cause',
    header: 'Cause',
    cell: (d) => (d.cause ? d.cause : <span className="muted">unknown</span>),
  },
];

function StrategyResult({ s }: { s: StrategyParity }) {
  const [all, setAll] = useState(false);
  const shown = s.differences.slice(0, all ? MAX_ROWS : FIRST_ROWS);
  const kinds = new Map<string, number>();
  for (const d of s.differences) kinds.set(causeKind(d.cause), (kinds.get(causeKind(d.cause)) ?? 0) + 1);
  return (
    <section className="parity-strategy" aria-label={`Parity of ${s.strategy}`}>
      <h3>
        {s.strategy}{' '}
        <span className="muted">
          {s.module} on {s.symbols.join(', ')} · {s.timeframe}
        </span>
      </h3>
      {s.error ? (
        <p className="error-text">Not replayed: {s.error}</p>
      ) : (
        <p>
          Signals: {s.signals.matched} of {s.signals.live} live matched, {s.signals.backtest} in the backtest.
          Fills: {s.fills.matched} of {s.fills.live} live matched, {s.fills.backtest} in the backtest.{' '}
          {s.differences.length === 0 ? (
            <Badge kind="good">live and backtest agree</Badge>
          ) : (
            <Badge kind="warn">
              {s.differences.length} difference{s.differences.length === 1 ? '' : 's'}
            </Badge>
          )}
        </p>
      )}
      {kinds.size > 0 ? (
        <ul className="parity-causes" aria-label={`Causes of the differences of ${s.strategy}`}>
          {[...kinds]
            .sort((a, b) => b[1] - a[1])
            .map(([kind, n]) => (
              <li key={kind}>
                <strong>{n}</strong> × {kind}
              </li>
            ))}
        </ul>
      ) : null}
      {shown.length > 0 ? (
        <Table
          caption={`Differences of ${s.strategy}`}
          columns={columns}
          rows={shown}
          rowKey={(d) => `${d.kind}:${d.symbol}:${d.barTime}`}
        />
      ) : null}
      {s.differences.length > shown.length ? (
        <p className="muted">
          The first {shown.length} of {s.differences.length}.{' '}
          {!all ? (
            <button type="button" className="btn btn-small" onClick={() => setAll(true)}>
              Show {Math.min(MAX_ROWS, s.differences.length)}
            </button>
          ) : (
            '`weaver parity --json` lists them all.'
          )}
        </p>
      ) : null}
    </section>
  );
}

/**
 * Live versus backtest for a period the bot traded: the gateway replays the stored bars with each
 * strategy's live configuration and lists every signal and fill that differs, with its cause.
 */
export function ParityPanel({ strategies }: { strategies: { name: string; createdAt: string }[] }) {
  const id = useId();
  // "Today" is the venue's (the demo runs on an accelerated clock), else the browser's.
  const { data: account } = useSWR<AccountSummary>(routes.account);
  const today = account ? Date.parse(account.at) : Date.now();
  const [form, setForm] = useState<{ from: string; to: string; strategy: string } | null>(null);
  // The last week, or less when every strategy is younger: a period the bot traded.
  // (A creation time after the venue's "now" — the demo's clock runs behind the database's — is ignored.)
  const born = strategies.length ? Math.min(...strategies.map((x) => Date.parse(x.createdAt))) : 0;
  const weekAgo = today - 7 * 86_400_000;
  const f = form ?? {
    from: day(born <= today ? Math.max(weekAgo, born) : weekAgo),
    to: day(today),
    strategy: '',
  };
  const [asked, setAsked] = useState<string | null>(null);
  const report = useSWR<ParityReport>(asked, { revalidateOnFocus: false });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAsked(apiPath(routes.parity, { from: f.from, to: f.to, strategy: f.strategy || undefined }));
  };

  return (
    <Panel title="Live vs backtest">
      <form className="filters" onSubmit={submit} aria-label="Parity period">
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <input
            id={`${id}-from`}
            type="date"
            value={f.from}
            onChange={(e) => setForm({ ...f, from: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input
            id={`${id}-to`}
            type="date"
            value={f.to}
            onChange={(e) => setForm({ ...f, to: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-strategy`}>Strategy</label>
          <select
            id={`${id}-strategy`}
            value={f.strategy}
            onChange={(e) => setForm({ ...f, strategy: e.target.value })}
          >
            <option value="">all</option>
            {strategies.map((x) => (
              <option key={x.name}>{x.name}</option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn btn-primary" disabled={report.isLoading}>
          {report.isLoading ? 'Comparing…' : 'Compare'}
        </button>
      </form>
      {asked ? (
        <Async
          data={report.data}
          error={report.error}
          retry={() => report.mutate()}
          isEmpty={(r) => r.strategies.length === 0}
          empty="No strategy is configured."
          loadingLabel="Replaying the period…"
        >
          {(r) => (
            <div className="stack">
              {r.strategies.map((s) => (
                <StrategyResult key={s.strategy} s={s} />
              ))}
            </div>
          )}
        </Async>
      ) : (
        <p className="muted">
          Pick a period the bot traded: its stored bars are replayed through the backtester with each
          strategy's live settings, and every signal and fill that differs is listed with its cause.
        </p>
      )}
    </Panel>
  );
}
