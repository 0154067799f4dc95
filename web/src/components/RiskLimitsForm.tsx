import type { RiskLimitsInput, RiskLimitsView } from '@weaver/shared/schemas';
import { type FormEvent, useId, useState } from 'react';
import useSWR from 'swr';
import { ApiError, api } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { Panel } from './Panel.tsx';
import { Async, errorMessage } from './states.tsx';

type Key = keyof RiskLimitsInput;

/** The limits place-order enforces on every order, strategy or manual. A blank field is no limit. */
const FIELDS: Array<{ key: Key; label: string; hint: string; integer?: boolean }> = [
  { key: 'maxOrderNotional', label: 'Max order ($)', hint: 'notional of one order' },
  { key: 'maxPositionNotional', label: 'Max position ($)', hint: 'notional held in one symbol' },
  { key: 'maxOpenOrders', label: 'Max open orders', hint: 'across every strategy', integer: true },
  { key: 'dailyLossLimit', label: 'Daily loss limit ($)', hint: 'halts new orders until the next UTC day' },
  {
    key: 'cooldownMinutesAfterLoss',
    label: 'Cool-down after a loss (min)',
    hint: 'before a strategy opens again',
    integer: true,
  },
];

function RiskForm({ view }: { view: RiskLimitsView }) {
  const id = useId();
  const [draft, setDraft] = useState<Record<Key, string>>(
    () =>
      Object.fromEntries(
        FIELDS.map((f) => [f.key, view.limits[f.key] === undefined ? '' : String(view.limits[f.key])]),
      ) as Record<Key, string>,
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, string | number> = {};
    const found: Record<string, string> = {};
    for (const f of FIELDS) {
      const v = draft[f.key].trim();
      if (v === '') continue;
      if (f.integer) {
        if (!/^\d+$/.test(v)) found[f.key] = 'must be a whole number';
        else body[f.key] = Number(v);
      } else body[f.key] = v; // dollars stay decimal strings; the server checks them
    }
    setErrors(found);
    setStatus(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await api<RiskLimitsView>(routes.riskLimits, { method: 'PUT', body });
      setStatus({ ok: true, text: 'Risk limits saved; the next order is checked against them.' });
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) setErrors(err.fields);
      setStatus({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      {view.problem ? (
        <p className="form-error" role="alert">
          The stored limits cannot be used ({view.problem}); orders are refused until they are saved again.
        </p>
      ) : null}
      <div className="form-grid">
        {FIELDS.map((f) => {
          const err = errors[f.key];
          return (
            <div className={`field ${err ? 'field-invalid' : ''}`} key={f.key}>
              <label htmlFor={`${id}-${f.key}`}>{f.label}</label>
              <input
                id={`${id}-${f.key}`}
                inputMode={f.integer ? 'numeric' : 'decimal'}
                placeholder="no limit"
                value={draft[f.key]}
                onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
                aria-invalid={err ? true : undefined}
                aria-describedby={`${id}-${f.key}-hint${err ? ` ${id}-${f.key}-err` : ''}`}
              />
              <div className="field-hint" id={`${id}-${f.key}-hint`}>
                {f.hint}
              </div>
              {err ? (
                <div className="field-error" id={`${id}-${f.key}-err`}>
                  {f.label} {err}
                </div>
              ) : null}
            </div>
          );
        })}
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save limits'}
        </button>
        <span role="status" className={status?.ok === false ? 'form-error' : 'notice'}>
          {status?.text ?? ''}
        </span>
      </div>
    </form>
  );
}

export function RiskLimitsPanel() {
  const { data, error, mutate } = useSWR<RiskLimitsView>(routes.riskLimits);
  return (
    <Panel title="Risk limits">
      <Async data={data} error={error} retry={() => mutate()}>
        {(view) => <RiskForm view={view} />}
      </Async>
    </Panel>
  );
}
