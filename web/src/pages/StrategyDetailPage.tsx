import type { Exits, StrategyDetail } from '@weaver/shared/schemas';
import { useState } from 'react';
import useSWR from 'swr';
import { api } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { ExitsForm } from '../components/ExitsForm.tsx';
import { Notice } from '../components/Notice.tsx';
import { Panel, Stat } from '../components/Panel.tsx';
import { ParamForm } from '../components/ParamForm.tsx';
import { RestingExit } from '../components/RestingExit.tsx';
import { signalColumns } from '../components/signalColumns.tsx';
import { Async } from '../components/states.tsx';
import { Table } from '../components/Table.tsx';
import { money, pnl, qty, tone } from '../lib/format.ts';
import type { ParamSchema } from '../lib/paramSchema.ts';
import { RunNowButton, StatusBadge, StrategyToggle, useStrategyRevalidate } from './StrategiesPage.tsx';

function sizingText(s: StrategyDetail['sizing']): string {
  if (s.type === 'fixed_qty') return `${s.qty} units per trade`;
  if (s.type === 'fixed_notional') return `${money(s.notional)} per trade`;
  return `${s.percent}% of equity per trade`;
}

function exitsText(e: StrategyDetail['exits']): string {
  const parts = [
    e.stopLoss !== undefined ? `stop loss ${(e.stopLoss * 100).toFixed(2)}%` : '',
    e.takeProfit !== undefined ? `take profit ${(e.takeProfit * 100).toFixed(2)}%` : '',
    e.trailingStop !== undefined ? `trailing stop ${(e.trailingStop * 100).toFixed(2)}%` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'none';
}

export default function StrategyDetailPage({ name }: { name: string }) {
  const { data, error, mutate } = useSWR<StrategyDetail>(routes.strategy(name));
  const revalidate = useStrategyRevalidate();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const saveParams = async (params: Record<string, unknown>) => {
    await api(routes.strategy(name), { method: 'PATCH', body: { params } });
    await revalidate();
  };
  const saveExits = async (exits: Exits) => {
    await api(routes.strategy(name), { method: 'PATCH', body: { exits } });
    await revalidate();
  };

  return (
    <Async data={data} error={error} retry={() => mutate()}>
      {(s) => (
        <div className="stack">
          <p>
            <a href="#/strategies">← All strategies</a>
          </p>
          <div className="stats">
            <Stat label="Status" value={<StatusBadge s={s} />} hint={s.statusReason ?? undefined} />
            <Stat label="Realised P&L" value={pnl(s.realizedPnl)} tone={tone(s.realizedPnl)} />
            <Stat label="Unrealised P&L" value={pnl(s.unrealizedPnl)} tone={tone(s.unrealizedPnl)} />
            <Stat label="Open positions" value={s.openPositions} />
          </div>
          <Panel
            title="Control"
            actions={
              <div className="row">
                <StrategyToggle strategy={s} onError={(t) => setMessage({ ok: false, text: t })} />
                <RunNowButton name={s.name} onResult={(ok, text) => setMessage({ ok, text })} />
              </div>
            }
          >
            <Notice message={message} />
            <dl className="kv">
              <dt>Module</dt>
              <dd>
                {s.module}
                {s.moduleInfo ? <span className="muted"> — {s.moduleInfo.description}</span> : null}
              </dd>
              <dt>Symbols</dt>
              <dd>{s.symbols.join(', ')}</dd>
              <dt>Timeframe</dt>
              <dd>{s.timeframe}</dd>
              <dt>Exchange</dt>
              <dd>{s.exchange ?? 'default'}</dd>
              <dt>Sizing</dt>
              <dd>{sizingText(s.sizing)}</dd>
              <dt>Exits</dt>
              <dd>{exitsText(s.exits)}</dd>
              <dt>Shorting</dt>
              <dd>{s.allowShort ? 'allowed' : 'off'}</dd>
            </dl>
          </Panel>
          <Panel title="Parameters">
            {s.moduleInfo?.paramsSchema ? (
              <ParamForm
                key={s.name}
                schema={s.moduleInfo.paramsSchema as ParamSchema}
                values={{ ...(s.moduleInfo.defaults ?? {}), ...s.params }}
                onSubmit={saveParams}
              />
            ) : (
              <p className="form-error">
                The module {s.module} is not loaded
                {s.moduleInfo?.error ? `: ${s.moduleInfo.error}` : ''}, so its parameters cannot be edited.
              </p>
            )}
          </Panel>
          <Panel title="Exits">
            <ExitsForm key={s.name} exits={s.exits} onSave={saveExits} />
          </Panel>
          <Panel title="Positions">
            {s.positions.length === 0 ? (
              <p className="state state-empty">No positions.</p>
            ) : (
              <Table
                caption={`Positions of ${s.name}`}
                columns={[
                  { key: 'symbol', header: 'Symbol', cell: (p) => p.symbol },
                  { key: 'qty', header: 'Qty', align: 'right', cell: (p) => qty(p.qty) },
                  { key: 'avg', header: 'Avg price', align: 'right', cell: (p) => money(p.avgPrice) },
                  {
                    key: 'upnl',
                    header: 'Unrealised',
                    align: 'right',
                    cell: (p) => <span className={tone(p.unrealizedPnl)}>{pnl(p.unrealizedPnl)}</span>,
                  },
                  {
                    key: 'rpnl',
                    header: 'Realised',
                    align: 'right',
                    cell: (p) => <span className={tone(p.realizedPnl)}>{pnl(p.realizedPnl)}</span>,
                  },
                  { key: 'exit', header: 'Resting exit', cell: (p) => <RestingExit position={p} /> },
                ]}
                rows={s.positions}
                rowKey={(p) => p.symbol}
              />
            )}
          </Panel>
          <Panel title="Recent signals">
            {s.recentSignals.length === 0 ? (
              <p className="state state-empty">No signals yet.</p>
            ) : (
              <Table
                caption={`Recent signals of ${s.name}`}
                columns={signalColumns({ withStrategy: false })}
                rows={s.recentSignals}
                rowKey={(x) => x.id}
              />
            )}
          </Panel>
        </div>
      )}
    </Async>
  );
}
