import { type FormEvent, useId, useState } from 'react';
import { ApiError } from '../api/client.ts';
import {
  draftFrom,
  inputBounds,
  kindOf,
  type ParamDraft,
  type ParamSchema,
  rangeHint,
  readDraft,
} from '../lib/paramSchema.ts';
import { errorMessage } from './states.tsx';

/**
 * Splits a 400's fields into those under `prefix` (`params.fast` → `fast`) and the rest, so each error can
 * be shown next to the input it concerns.
 */
export function splitFieldErrors(
  err: ApiError,
  prefix: string,
): { inner: Record<string, string>; outer: Record<string, string> } {
  const inner: Record<string, string> = {};
  const outer: Record<string, string> = {};
  for (const [path, msg] of Object.entries(err.fields)) {
    if (path.startsWith(`${prefix}.`)) inner[path.slice(prefix.length + 1)] = msg;
    else outer[path] = msg;
  }
  return { inner, outer };
}

/**
 * The inputs of a strategy's parameters, rendered from its JSON schema: numbers with their bounds, enums as
 * selects, booleans as checkboxes, arrays and objects as JSON. Used by the parameter form and the backtest
 * form. `render` replaces the standard input of a field (the sweep form asks for lists of values).
 */
export function ParamFields({
  schema,
  draft,
  errors,
  onChange,
  idPrefix,
  hint: extraHint,
}: {
  schema: ParamSchema;
  draft: ParamDraft;
  errors: Record<string, string>;
  onChange: (name: string, value: string) => void;
  idPrefix: string;
  /** An extra hint under every field (e.g. how to write a sweep's values). */
  hint?: string;
}) {
  return (
    <div className="form-grid">
      {Object.entries(schema.properties ?? {}).map(([name, prop]) => {
        const id = `${idPrefix}-${name}`;
        const kind = kindOf(prop);
        const err = errors[name];
        const hint = [prop.description, rangeHint(prop), extraHint].filter(Boolean).join(' · ');
        const describedBy =
          [hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
        const label = prop.title ?? name;
        const common = {
          id,
          'aria-invalid': err ? true : undefined,
          'aria-describedby': describedBy,
        } as const;
        return (
          <div
            className={`field ${err ? 'field-invalid' : ''} ${kind === 'json' ? 'field-wide' : ''}`}
            key={name}
          >
            {kind === 'boolean' && !extraHint ? (
              <label className="check" htmlFor={id}>
                <input
                  {...common}
                  type="checkbox"
                  checked={draft[name] === 'true'}
                  onChange={(e) => onChange(name, String(e.target.checked))}
                />
                {label}
              </label>
            ) : (
              <>
                <label htmlFor={id}>{label}</label>
                {kind === 'enum' && !extraHint ? (
                  <select {...common} value={draft[name]} onChange={(e) => onChange(name, e.target.value)}>
                    {prop.enum?.map((o) => (
                      <option key={String(o)} value={String(o)}>
                        {String(o)}
                      </option>
                    ))}
                  </select>
                ) : kind === 'json' ? (
                  <textarea
                    {...common}
                    rows={Math.min(12, Math.max(3, draft[name].split('\n').length))}
                    spellCheck={false}
                    className="json-input"
                    value={draft[name]}
                    onChange={(e) => onChange(name, e.target.value)}
                  />
                ) : (
                  <input
                    {...common}
                    type={kind === 'string' || extraHint ? 'text' : 'number'}
                    inputMode={kind === 'integer' ? 'numeric' : kind === 'number' ? 'decimal' : undefined}
                    {...(kind === 'string' || extraHint ? {} : inputBounds(prop))}
                    value={draft[name]}
                    placeholder={prop.default !== undefined ? String(prop.default) : undefined}
                    onChange={(e) => onChange(name, e.target.value)}
                  />
                )}
              </>
            )}
            {hint ? (
              <div className="field-hint" id={`${id}-hint`}>
                {hint}
              </div>
            ) : null}
            {err ? (
              <div className="field-error" id={`${id}-err`}>
                {label} {err}
              </div>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}

/**
 * A strategy's parameter form. Errors show next to the field they concern, whether the browser found them
 * or the server did.
 */
export function ParamForm({
  schema,
  values,
  onSubmit,
  submitLabel = 'Save parameters',
  errorPrefix = 'params',
}: {
  schema: ParamSchema;
  values: Record<string, unknown>;
  onSubmit: (values: Record<string, unknown>) => Promise<void>;
  submitLabel?: string;
  errorPrefix?: string;
}) {
  const formId = useId();
  const [draft, setDraft] = useState<ParamDraft>(() => draftFrom(schema, values));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved'>('idle');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const read = readDraft(schema, draft);
    setErrors(read.errors);
    setFormError(null);
    if (Object.keys(read.errors).length > 0) return;
    setStatus('saving');
    try {
      await onSubmit(read.values);
      setStatus('saved');
    } catch (err) {
      setStatus('idle');
      if (err instanceof ApiError && Object.keys(err.fields).length > 0) {
        const { inner, outer } = splitFieldErrors(err, errorPrefix);
        const known = Object.fromEntries(Object.entries(inner).filter(([k]) => k in draft));
        const other = [
          ...Object.entries(inner).filter(([k]) => !(k in draft)),
          ...Object.entries(outer).filter(([k]) => !(k in draft)),
        ];
        // A bare field name (a module that reports `fast` rather than `params.fast`) is still this form's.
        for (const [k, v] of Object.entries(outer)) if (k in draft) known[k] = v;
        setErrors(known);
        setFormError(other.length ? other.map(([k, v]) => `${k} ${v}`).join('; ') : null);
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  if (Object.keys(schema.properties ?? {}).length === 0) {
    return <p className="muted">This strategy has no parameters.</p>;
  }

  return (
    <form className="param-form" onSubmit={submit} noValidate>
      <ParamFields
        schema={schema}
        draft={draft}
        errors={errors}
        idPrefix={formId}
        onChange={(name, value) => {
          setDraft((d) => ({ ...d, [name]: value }));
          setStatus('idle');
        }}
      />
      {formError ? (
        <p className="form-error" role="alert">
          {formError}
        </p>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={status === 'saving'}>
          {status === 'saving' ? 'Saving…' : submitLabel}
        </button>
        <span role="status" className="muted">
          {status === 'saved' ? 'Saved.' : ''}
        </span>
      </div>
    </form>
  );
}
