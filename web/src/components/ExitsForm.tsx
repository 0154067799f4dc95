import type { Exits } from '@weaver/shared/schemas';
import { type FormEvent, Fragment, useId, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { EXIT_KEYS, EXIT_LABELS, type ExitKey, fieldKit, percentOf } from './formFields.tsx';
import { errorMessage } from './states.tsx';

type Key = ExitKey;

/** A fraction as the percentage a person types (0.05 → "5"); none → blank. */
const percentText = (f: number | undefined): string =>
  f === undefined ? '' : String(Number((f * 100).toPrecision(10)));

/**
 * A running strategy's exits, as percentages of the entry price; a blank one is none. Saving replaces
 * all three; the server's errors land at their input.
 */
export function ExitsForm({ exits, onSave }: { exits: Exits; onSave: (exits: Exits) => Promise<void> }) {
  const id = useId();
  const [values, setValues] = useState<Record<Key, string>>({
    stopLoss: percentText(exits.stopLoss),
    takeProfit: percentText(exits.takeProfit),
    trailingStop: percentText(exits.trailingStop),
  });
  const [errors, setErrors] = useState<Partial<Record<Key, string>>>({});
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const { field, aria } = fieldKit(id, errors);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setNotice(null);
    const mine: Partial<Record<Key, string>> = {};
    const next: Exits = {};
    for (const k of EXIT_KEYS) {
      const f = percentOf(values[k]);
      if (f !== undefined && !(f > 0)) mine[k] = 'must be a number above 0';
      else if (f !== undefined) next[k] = f;
    }
    setErrors(mine);
    if (Object.keys(mine).length) return;
    setBusy(true);
    try {
      await onSave(next);
      setNotice({ ok: true, text: 'Exits saved; they apply from the next bar.' });
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        const placed: Partial<Record<Key, string>> = {};
        for (const [path, msg] of Object.entries(err.fields)) {
          const k = path.split('.')[1] as Key;
          if (path.startsWith('exits.') && k in EXIT_LABELS) placed[k] = msg;
        }
        setErrors(placed);
      }
      setNotice({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack" onSubmit={submit} noValidate aria-label="Exits">
      <p className="muted">
        While a position is open they rest at the exchange as one protective order (the stop, with the take
        profit as one-cancels-other where the exchange has it), moved up as a trailing stop rises. Where the
        exchange cannot hold one, each new bar is checked at its close instead.
      </p>
      <div className="form-grid">
        {EXIT_KEYS.map((k) => (
          <Fragment key={k}>
            {field(
              k,
              EXIT_LABELS[k],
              <input
                {...aria(k)}
                inputMode="decimal"
                placeholder="none"
                value={values[k]}
                onChange={(e) => setValues({ ...values, [k]: e.target.value })}
              />,
            )}
          </Fragment>
        ))}
      </div>
      {notice ? (
        <p className={notice.ok ? 'muted' : 'form-error'} role={notice.ok ? 'status' : 'alert'}>
          {notice.text}
        </p>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save exits'}
        </button>
      </div>
    </form>
  );
}
