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

/** Server field paths may be nested under the body's key (`params.fast`); the form knows `fast`. */
function fieldErrors(err: ApiError, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, msg] of Object.entries(err.fields)) {
    const name = path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : path;
    out[name] = msg;
  }
  return out;
}

/**
 * A strategy's parameter form, rendered from its JSON schema. Errors show next to the field they concern,
 * whether the browser found them or the server did.
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
  const props = Object.entries(schema.properties ?? {});

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
        const byField = fieldErrors(err, errorPrefix);
        const known = Object.fromEntries(Object.entries(byField).filter(([k]) => k in draft));
        setErrors(known);
        const other = Object.entries(byField).filter(([k]) => !(k in draft));
        setFormError(other.length ? other.map(([k, v]) => `${k} ${v}`).join('; ') : null);
      } else {
        setFormError(errorMessage(err));
      }
    }
  };

  if (props.length === 0) return <p className="muted">This strategy has no parameters.</p>;

  return (
    <form className="param-form" onSubmit={submit} noValidate>
      <div className="form-grid">
        {props.map(([name, prop]) => {
          const id = `${formId}-${name}`;
          const kind = kindOf(prop);
          const err = errors[name];
          const hint = [prop.description, rangeHint(prop)].filter(Boolean).join(' · ');
          const describedBy =
            [hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
          const onChange = (value: string) => {
            setDraft((d) => ({ ...d, [name]: value }));
            setStatus('idle');
          };
          return (
            <div
              className={`field ${err ? 'field-invalid' : ''} ${kind === 'json' ? 'field-wide' : ''}`}
              key={name}
            >
              {kind === 'boolean' ? (
                <label className="check" htmlFor={id}>
                  <input
                    id={id}
                    type="checkbox"
                    checked={draft[name] === 'true'}
                    onChange={(e) => onChange(String(e.target.checked))}
                    aria-describedby={describedBy}
                  />
                  {prop.title ?? name}
                </label>
              ) : (
                <>
                  <label htmlFor={id}>{prop.title ?? name}</label>
                  {kind === 'enum' ? (
                    <select
                      id={id}
                      value={draft[name]}
                      onChange={(e) => onChange(e.target.value)}
                      aria-invalid={err ? true : undefined}
                      aria-describedby={describedBy}
                    >
                      {prop.enum?.map((o) => (
                        <option key={String(o)} value={String(o)}>
                          {String(o)}
                        </option>
                      ))}
                    </select>
                  ) : kind === 'json' ? (
                    <textarea
                      id={id}
                      rows={Math.min(12, Math.max(3, draft[name].split('\n').length))}
                      spellCheck={false}
                      className="json-input"
                      value={draft[name]}
                      onChange={(e) => onChange(e.target.value)}
                      aria-invalid={err ? true : undefined}
                      aria-describedby={describedBy}
                    />
                  ) : (
                    <input
                      id={id}
                      type={kind === 'string' ? 'text' : 'number'}
                      inputMode={kind === 'integer' ? 'numeric' : kind === 'number' ? 'decimal' : undefined}
                      {...(kind === 'string' ? {} : inputBounds(prop))}
                      value={draft[name]}
                      placeholder={prop.default !== undefined ? String(prop.default) : undefined}
                      onChange={(e) => onChange(e.target.value)}
                      aria-invalid={err ? true : undefined}
                      aria-describedby={describedBy}
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
                  {prop.title ?? name} {err}
                </div>
              ) : null}
            </div>
          );
        })}
      </div>
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
