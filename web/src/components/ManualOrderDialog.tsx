import type { ManualOrderInput, ManualOrderResult, Order } from '@weaver/shared/schemas';
import { OrderType, Side, TimeInForce } from '@weaver/shared/schemas';
import { type FormEvent, useId, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { Dialog } from './Dialog.tsx';
import { errorMessage } from './states.tsx';

type Draft = Record<
  | 'strategy'
  | 'symbol'
  | 'side'
  | 'type'
  | 'timeInForce'
  | 'amount'
  | 'limitPrice'
  | 'stopPrice'
  | 'trailPercent',
  string
> & {
  by: 'qty' | 'notional';
};

/** One idempotency key per dialog: a double click or a retry after a timeout places the order once. */
function newClientOrderId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `manual-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * A manual order. The gateway runs it through the same risk checks as a strategy's and answers a 400 naming
 * each bad field, shown next to that field.
 */
export function ManualOrderDialog({
  onClose,
  onPlaced,
}: {
  onClose: () => void;
  onPlaced: (o: Order, outcome: ManualOrderResult['outcome']) => void;
}) {
  const id = useId();
  const [clientOrderId] = useState(newClientOrderId);
  const [d, setD] = useState<Draft>({
    strategy: 'manual',
    symbol: '',
    side: 'buy',
    type: 'market',
    timeInForce: 'day',
    by: 'qty',
    amount: '',
    limitPrice: '',
    stopPrice: '',
    trailPercent: '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof Draft, v: string) => setD((x) => ({ ...x, [k]: v }));

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    const body: ManualOrderInput = {
      strategy: d.strategy.trim() || 'manual',
      symbol: d.symbol.trim().toUpperCase(),
      side: d.side as ManualOrderInput['side'],
      type: d.type as ManualOrderInput['type'],
      timeInForce: d.timeInForce as ManualOrderInput['timeInForce'],
      [d.by]: d.amount.trim() || undefined,
      limitPrice: d.limitPrice.trim() || undefined,
      stopPrice: d.stopPrice.trim() || undefined,
      trailPercent: d.trailPercent.trim() || undefined,
      clientOrderId,
    };
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const r = await api<ManualOrderResult>(routes.orders, { method: 'POST', body });
      if (r.order) onPlaced(r.order, r.outcome);
      else setFormError(`Not placed (${r.outcome})${r.reason ? `: ${r.reason}` : ''}`);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        // The amount field stands for qty or notional, whichever is chosen.
        const f = { ...err.fields };
        if (f.qty || f.notional) f.amount = f.qty ?? f.notional;
        setErrors(f);
        setFormError(err.message);
      } else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const input = (k: keyof Draft, label: string, props: Record<string, unknown> = {}) => (
    <div className="field">
      <label htmlFor={`${id}-${k}`}>{label}</label>
      <input
        id={`${id}-${k}`}
        value={d[k]}
        onChange={(e) => set(k, e.target.value)}
        aria-invalid={errors[k] ? true : undefined}
        aria-describedby={errors[k] ? `${id}-${k}-err` : undefined}
        {...props}
      />
      {errors[k] ? (
        <div className="field-error" id={`${id}-${k}-err`}>
          {errors[k]}
        </div>
      ) : null}
    </div>
  );
  const select = (k: keyof Draft, label: string, options: readonly string[]) => (
    <div className="field">
      <label htmlFor={`${id}-${k}`}>{label}</label>
      <select id={`${id}-${k}`} value={d[k]} onChange={(e) => set(k, e.target.value)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {o.replace(/_/g, ' ')}
          </option>
        ))}
      </select>
    </div>
  );
  const needsLimit = d.type === 'limit' || d.type === 'stop_limit';
  const needsStop = d.type === 'stop' || d.type === 'stop_limit';

  return (
    <Dialog
      title="New order"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" onClick={() => submit()} disabled={busy}>
            {busy ? 'Sending…' : 'Place order'}
          </button>
        </>
      }
    >
      <form onSubmit={submit} className="form-grid" noValidate>
        {input('symbol', 'Symbol', { placeholder: 'AAPL', autoCapitalize: 'characters' })}
        {select('side', 'Side', Side.options)}
        {select('type', 'Type', OrderType.options)}
        {select('timeInForce', 'Time in force', TimeInForce.options)}
        {select('by', 'Size by', ['qty', 'notional'])}
        {input('amount', d.by === 'qty' ? 'Quantity' : 'Notional ($)', { inputMode: 'decimal' })}
        {needsLimit ? input('limitPrice', 'Limit price', { inputMode: 'decimal' }) : null}
        {needsStop ? input('stopPrice', 'Stop price', { inputMode: 'decimal' }) : null}
        {d.type === 'trailing_stop' ? input('trailPercent', 'Trail %', { inputMode: 'decimal' }) : null}
        {input('strategy', 'Book (strategy)')}
        <button type="submit" hidden />
      </form>
      {formError ? (
        <p className="form-error" role="alert">
          {formError}
        </p>
      ) : null}
    </Dialog>
  );
}
