import type { BarSeriesList, StrategyCreate, StrategySummary } from '@weaver/shared/schemas';
import { type FormEvent, Fragment, useId, useMemo, useState } from 'react';
import useSWR from 'swr';
import { ApiError, api } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import type { StrategyModuleList } from '../api/types.ts';
import { draftFrom, type ParamDraft, type ParamSchema, readDraft } from '../lib/paramSchema.ts';
import {
  EXIT_KEYS,
  EXIT_LABELS,
  exitsOf,
  fieldKit,
  ModuleSelect,
  parseSymbols,
  SIZING_LABEL,
  SizingSelect,
  type SizingType,
  sizingOf,
  storedSymbols,
  TimeframeSelect,
} from './formFields.tsx';
import { ParamFields } from './ParamForm.tsx';
import { Async, errorMessage } from './states.tsx';

interface Settings {
  name: string;
  symbols: string;
  timeframe: string;
  sizing: SizingType;
  sizingValue: string;
  stopLoss: string;
  takeProfit: string;
  trailingStop: string;
  allowShort: boolean;
  enabled: boolean;
}

/** Where a server error about a field of the body is shown (sizing.qty → the sizing value input…). */
function settingOf(path: string): keyof Settings | null {
  const head = path.split('.')[0];
  if (head === 'sizing') return 'sizingValue';
  if (path.startsWith('exits.stopLoss')) return 'stopLoss';
  if (path.startsWith('exits.takeProfit')) return 'takeProfit';
  if (path.startsWith('exits.trailingStop')) return 'trailingStop';
  if (head === 'name' || head === 'symbols' || head === 'timeframe' || head === 'allowShort') return head;
  if (head === 'enabled') return 'enabled';
  return null;
}

function bodyOf(s: Settings, module: string, params: Record<string, unknown>): StrategyCreate {
  return {
    name: s.name.trim(),
    module,
    params,
    symbols: parseSymbols(s.symbols),
    timeframe: s.timeframe as StrategyCreate['timeframe'],
    sizing: sizingOf(s.sizing, s.sizingValue),
    exits: exitsOf(s),
    allowShort: s.allowShort,
    enabled: s.enabled,
  };
}

/**
 * A new strategy instance: a module, its parameters (inputs rendered from the module's JSON Schema, as
 * the parameter form), symbols, timeframe, sizing and exits. Created disabled unless asked; the gateway
 * validates the parameters with the module's own schema and each error lands next to its input.
 */
export function NewStrategyForm({
  onCreated,
  onCancel,
}: {
  onCreated: (s: StrategySummary) => void;
  onCancel: () => void;
}) {
  const id = useId();
  const modules = useSWR<StrategyModuleList>(routes.strategyModules);
  const series = useSWR<BarSeriesList>(routes.barSeries);
  const usable = useMemo(
    () => (modules.data?.items ?? []).filter((m) => m.paramsSchema && !m.error),
    [modules.data],
  );
  const [moduleName, setModuleName] = useState('');
  const mod = usable.find((m) => m.name === moduleName) ?? usable[0];
  const schema = (mod?.paramsSchema ?? { properties: {} }) as ParamSchema;
  const stored = series.data?.items ?? [];
  const [settings, setSettings] = useState<Settings | null>(null);
  // Until edited, the symbols and timeframe that have stored bars.
  const s: Settings = settings ?? {
    name: '',
    symbols: storedSymbols(stored, 1),
    timeframe: stored[0]?.timeframe ?? '1Day',
    sizing: 'fixed_qty',
    sizingValue: '1',
    stopLoss: '',
    takeProfit: '',
    trailingStop: '',
    allowShort: false,
    enabled: false,
  };
  const set = (patch: Partial<Settings>) => setSettings({ ...s, ...patch });
  const [drafts, setDrafts] = useState<Record<string, ParamDraft>>({});
  const draft = drafts[mod?.name ?? ''] ?? (mod ? draftFrom(schema, mod.defaults ?? {}) : {});
  const [paramErrors, setParamErrors] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Partial<Record<keyof Settings, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!mod) return;
    setFormError(null);
    const read = readDraft(schema, draft);
    const mine: Partial<Record<keyof Settings, string>> = {};
    if (!/^[a-z0-9][a-z0-9-]*$/.test(s.name.trim()))
      mine.name = 'must be lower-case letters, digits and dashes';
    setParamErrors(read.errors);
    setErrors(mine);
    if (Object.keys(read.errors).length || Object.keys(mine).length) return;
    setBusy(true);
    try {
      const created = await api<StrategySummary>(routes.strategies, {
        method: 'POST',
        body: bodyOf(s, mod.name, read.values),
      });
      onCreated(created);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        const params: Record<string, string> = {};
        const settingErrors: Partial<Record<keyof Settings, string>> = {};
        const other: string[] = [];
        for (const [path, msg] of Object.entries(err.fields)) {
          const p = /^params\.([^.]+)/.exec(path);
          const setting = settingOf(path);
          if (p && p[1] in draft) params[p[1]] = msg;
          else if (setting) settingErrors[setting] ??= msg;
          else other.push(`${path} ${msg}`);
        }
        setParamErrors(params);
        setErrors(settingErrors);
        // Each placed error is shown at its input; only the rest are spelled out here.
        setFormError(other.length ? other.join('; ') : 'Check the fields marked above.');
      } else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const { field, aria } = fieldKit(id, errors);
  const text = (
    key: 'name' | 'symbols' | 'sizingValue' | 'stopLoss' | 'takeProfit' | 'trailingStop',
    props: Record<string, unknown> = {},
    hinted = false,
  ) => (
    <input
      {...aria(key, hinted)}
      value={s[key]}
      onChange={(e) => set({ [key]: e.target.value })}
      {...props}
    />
  );
  const check = (key: 'allowShort' | 'enabled', label: string) => (
    <div className={`field ${errors[key] ? 'field-invalid' : ''}`}>
      <label className="check" htmlFor={`${id}-${key}`}>
        <input
          {...aria(key)}
          type="checkbox"
          checked={s[key]}
          onChange={(e) => set({ [key]: e.target.checked })}
        />
        {label}
      </label>
      {errors[key] ? (
        <div className="field-error" id={`${id}-${key}-err`}>
          {label} {errors[key]}
        </div>
      ) : null}
    </div>
  );

  return (
    <Async
      data={modules.data}
      error={modules.error}
      retry={() => modules.mutate()}
      isEmpty={() => usable.length === 0}
      empty="No strategy module can be loaded."
    >
      {() => (
        <form className="stack" onSubmit={submit} noValidate aria-label="New strategy">
          <div className="form-grid">
            {field(
              'name',
              'Name',
              text('name', { placeholder: 'nvda-trend', autoCapitalize: 'none' }, true),
              'lower-case letters, digits and dashes; the book of its orders and positions',
            )}
            <ModuleSelect
              id={`${id}-module`}
              label="Module"
              modules={usable}
              value={mod?.name ?? ''}
              onChange={(name) => {
                setModuleName(name);
                setParamErrors({});
              }}
            />
            {field(
              'symbols',
              'Symbols',
              text('symbols', { placeholder: 'AAPL, MSFT', autoCapitalize: 'characters' }),
            )}
            {field(
              'timeframe',
              'Timeframe',
              <TimeframeSelect
                aria={aria('timeframe')}
                value={s.timeframe}
                onChange={(timeframe) => set({ timeframe })}
              />,
            )}
            {field(
              'sizing',
              'Sizing',
              <SizingSelect aria={aria('sizing')} value={s.sizing} onChange={(sizing) => set({ sizing })} />,
            )}
            {field('sizingValue', SIZING_LABEL[s.sizing], text('sizingValue', { inputMode: 'decimal' }))}
            {EXIT_KEYS.map((k) => (
              <Fragment key={k}>
                {field(k, EXIT_LABELS[k], text(k, { inputMode: 'decimal', placeholder: 'none' }))}
              </Fragment>
            ))}
            {check('allowShort', 'Allow short positions')}
            {check('enabled', 'Start trading now')}
          </div>
          <fieldset className="fieldset">
            <legend>{mod ? `${mod.name} parameters` : 'Parameters'}</legend>
            {mod?.description ? <p className="muted">{mod.description}</p> : null}
            {Object.keys(schema.properties ?? {}).length === 0 ? (
              <p className="muted">This module has no parameters.</p>
            ) : (
              <ParamFields
                key={mod?.name}
                schema={schema}
                draft={draft}
                errors={paramErrors}
                idPrefix={`${id}-${mod?.name ?? ''}`}
                onChange={(name, value) =>
                  setDrafts((d) => ({ ...d, [mod?.name ?? '']: { ...draft, [name]: value } }))
                }
              />
            )}
          </fieldset>
          {formError ? (
            <p className="form-error" role="alert">
              {formError}
            </p>
          ) : null}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Creating…' : 'Create strategy'}
            </button>
            <button type="button" className="btn" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Async>
  );
}
