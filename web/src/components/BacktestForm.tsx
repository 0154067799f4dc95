import {
  type BacktestConfigInput,
  type BacktestSummary,
  type BarSeriesList,
  type ParamValues,
  SweepObjective,
  type SweepRequestInput,
  type SweepSummary,
} from '@weaver/shared/schemas';
import { type FormEvent, Fragment, useId, useMemo, useState } from 'react';
import useSWR, { useSWRConfig } from 'swr';
import { ApiError, api } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import type { StrategyModuleList } from '../api/types.ts';
import { navigate } from '../app/router.ts';
import { draftFrom, type ParamDraft, type ParamSchema, readDraft } from '../lib/paramSchema.ts';
import { parseSweepValues, SWEEP_VALUES_HINT } from '../lib/sweepValues.ts';
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

type Mode = 'single' | 'sweep';

interface Settings {
  name: string;
  symbols: string;
  timeframe: string;
  from: string;
  to: string;
  cash: string;
  sizing: SizingType;
  sizingValue: string;
  commissionPercent: string;
  slippageBps: string;
  stopLoss: string;
  takeProfit: string;
  trailingStop: string;
  objective: string;
  split: 'none' | 'holdout' | 'walk_forward';
  symbolMode: 'each' | 'together';
}

/** Settings both kinds of run share; blank optional fields are left to the server's defaults. */
function common(s: Settings) {
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const exits = exitsOf(s);
  return {
    name: s.name.trim() || undefined,
    symbols: parseSymbols(s.symbols),
    timeframe: s.timeframe as BacktestConfigInput['timeframe'],
    from: s.from || undefined,
    to: s.to || undefined,
    cash: num(s.cash),
    sizing: sizingOf(s.sizing, s.sizingValue),
    commission:
      s.commissionPercent.trim() === ''
        ? undefined
        : ({ type: 'percent', percent: Number(s.commissionPercent) } as const),
    slippageBps: num(s.slippageBps),
    // Left to the module's defaults when none is typed.
    ...(Object.keys(exits).length ? { exits } : {}),
  };
}

/** A 400's field paths, sorted to the input they belong to. */
function sortErrors(err: ApiError, mode: Mode) {
  const params: Record<string, string> = {};
  const settings: Record<string, string> = {};
  const prefix = mode === 'single' ? /^params\.([^.]+)/ : /^strategies\.0\.(?:grid|params)\.([^.]+)/;
  for (const [path, msg] of Object.entries(err.fields)) {
    const p = prefix.exec(path);
    if (p) params[p[1]] = msg;
    else if (path.startsWith('sizing')) settings.sizingValue = msg;
    else if (path.startsWith('commission')) settings.commissionPercent = msg;
    else if (path.startsWith('exits.')) settings[path.split('.')[1]] = msg;
    else settings[path.split('.')[0]] = msg;
  }
  return { params, settings };
}

/**
 * A backtest (one strategy, its parameters, some symbols) or a sweep (lists or ranges of parameter values,
 * ranked by an objective, optionally judged out of sample). The parameter inputs come from the module's
 * schema. Errors land next to their input, whichever side found them.
 */
export function BacktestForm() {
  const id = useId();
  const modules = useSWR<StrategyModuleList>(routes.strategyModules);
  const series = useSWR<BarSeriesList>(routes.barSeries);
  const { mutate } = useSWRConfig();
  const [mode, setMode] = useState<Mode>('single');
  const [moduleName, setModuleName] = useState('');
  const usable = useMemo(
    () => (modules.data?.items ?? []).filter((m) => m.paramsSchema && !m.error),
    [modules.data],
  );
  const mod = usable.find((m) => m.name === moduleName) ?? usable[0];
  const schema = (mod?.paramsSchema ?? { properties: {} }) as ParamSchema;
  const stored = series.data?.items ?? [];
  const [settings, setSettings] = useState<Settings | null>(null);
  // Defaults come from what is stored: the timeframe and symbols that have bars.
  const s: Settings = settings ?? {
    name: '',
    symbols: storedSymbols(stored, 3),
    timeframe: stored[0]?.timeframe ?? '1Day',
    from: '',
    to: '',
    cash: '100000',
    sizing: 'percent_equity',
    sizingValue: '10',
    commissionPercent: '',
    slippageBps: '',
    stopLoss: '',
    takeProfit: '',
    trailingStop: '',
    objective: 'sharpe',
    split: 'none',
    symbolMode: 'each',
  };
  const set = (patch: Partial<Settings>) => setSettings({ ...s, ...patch });
  const [drafts, setDrafts] = useState<Record<string, ParamDraft>>({});
  const draftKey = `${mode}:${mod?.name ?? ''}`;
  const draft = drafts[draftKey] ?? (mode === 'single' && mod ? draftFrom(schema, mod.defaults ?? {}) : {});
  const [paramErrors, setParamErrors] = useState<Record<string, string>>({});
  const [settingErrors, setSettingErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!mod) return;
    setFormError(null);
    setNotice(null);
    let body: BacktestConfigInput | SweepRequestInput;
    if (mode === 'single') {
      const read = readDraft(schema, draft);
      setParamErrors(read.errors);
      setSettingErrors({});
      if (Object.keys(read.errors).length) return;
      body = { ...common(s), strategy: mod.name, params: read.values };
    } else {
      const grid: Record<string, ParamValues> = {};
      const errors: Record<string, string> = {};
      for (const [name, text] of Object.entries(draft)) {
        const parsed = parseSweepValues(text, schema.properties?.[name]);
        if (parsed.error) errors[name] = parsed.error;
        else if (parsed.values) grid[name] = parsed.values;
      }
      setParamErrors(errors);
      setSettingErrors({});
      if (Object.keys(errors).length) return;
      if (Object.keys(grid).length === 0) {
        setFormError('Give at least one parameter a list or range of values to sweep.');
        return;
      }
      body = {
        ...common(s),
        strategies: [{ strategy: mod.name, grid }],
        objective: s.objective as SweepRequestInput['objective'],
        symbolMode: s.symbolMode,
        split: { type: s.split } as SweepRequestInput['split'],
      };
    }
    setBusy(true);
    try {
      if (mode === 'single') {
        const created = await api<BacktestSummary>(routes.backtests, { method: 'POST', body });
        void mutate((k) => typeof k === 'string' && k.startsWith(routes.backtests));
        navigate(`/backtests/${created.id}`);
      } else {
        const sweep = await api<SweepSummary>(routes.sweeps, { method: 'POST', body });
        setNotice(`Sweep #${sweep.id} started: ${sweep.total} runs.`);
        void mutate((k) => typeof k === 'string' && k.startsWith(routes.backtests));
      }
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length) {
        const sorted = sortErrors(err, mode);
        setParamErrors(sorted.params);
        setSettingErrors(sorted.settings);
        setFormError(err.message);
      } else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const { field, aria } = fieldKit(id, settingErrors);
  const text = (key: keyof Settings, props: Record<string, unknown> = {}) => (
    <input
      {...aria(key, Boolean(props.hint))}
      value={s[key]}
      onChange={(e) => set({ [key]: e.target.value })}
      {...props}
    />
  );

  return (
    <Async
      data={modules.data}
      error={modules.error}
      retry={() => modules.mutate()}
      isEmpty={() => usable.length === 0}
      empty="No strategy module can be loaded, so there is nothing to backtest."
    >
      {() => (
        <form className="stack" onSubmit={submit} noValidate aria-label="New backtest">
          <div className="row">
            <fieldset className="segmented">
              <legend className="sr-only">Kind of run</legend>
              <button type="button" aria-pressed={mode === 'single'} onClick={() => setMode('single')}>
                Single run
              </button>
              <button type="button" aria-pressed={mode === 'sweep'} onClick={() => setMode('sweep')}>
                Sweep
              </button>
            </fieldset>
            <span className="muted">
              {mode === 'single'
                ? 'One run with the parameters below.'
                : 'Every combination of the values below (grid), ranked by the objective.'}
            </span>
          </div>
          <div className="form-grid">
            <ModuleSelect
              id={`${id}-module`}
              label="Strategy"
              modules={usable}
              value={mod?.name ?? ''}
              onChange={setModuleName}
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
            {field('from', 'From', text('from', { type: 'date' }))}
            {field('to', 'To', text('to', { type: 'date' }))}
            {field('cash', 'Starting cash ($)', text('cash', { inputMode: 'decimal' }))}
            {field(
              'sizing',
              'Sizing',
              <SizingSelect aria={aria('sizing')} value={s.sizing} onChange={(sizing) => set({ sizing })} />,
            )}
            {field('sizingValue', SIZING_LABEL[s.sizing], text('sizingValue', { inputMode: 'decimal' }))}
            {field(
              'commissionPercent',
              'Commission (%)',
              text('commissionPercent', { inputMode: 'decimal', placeholder: 'none' }),
            )}
            {field(
              'slippageBps',
              'Slippage (bps)',
              text('slippageBps', { inputMode: 'decimal', placeholder: '0' }),
            )}
            {EXIT_KEYS.map((k) => (
              <Fragment key={k}>
                {field(k, EXIT_LABELS[k], text(k, { inputMode: 'decimal', placeholder: 'none' }))}
              </Fragment>
            ))}
            {field('name', 'Name (optional)', text('name'))}
            {mode === 'sweep' ? (
              <>
                {field(
                  'objective',
                  'Rank by',
                  <select
                    {...aria('objective')}
                    value={s.objective}
                    onChange={(e) => set({ objective: e.target.value })}
                  >
                    {SweepObjective.options.map((o) => (
                      <option key={o}>{o}</option>
                    ))}
                  </select>,
                )}
                {field(
                  'split',
                  'Judge on',
                  <select
                    {...aria('split')}
                    value={s.split}
                    onChange={(e) => set({ split: e.target.value as Settings['split'] })}
                  >
                    <option value="none">all bars</option>
                    <option value="holdout">a held-out 30%</option>
                    <option value="walk_forward">walk-forward folds</option>
                  </select>,
                )}
                {field(
                  'symbolMode',
                  'Symbols',
                  <select
                    {...aria('symbolMode')}
                    value={s.symbolMode}
                    onChange={(e) => set({ symbolMode: e.target.value as Settings['symbolMode'] })}
                  >
                    <option value="each">one run per symbol</option>
                    <option value="together">one portfolio</option>
                  </select>,
                )}
              </>
            ) : null}
          </div>
          <fieldset className="fieldset">
            <legend>{mod ? `${mod.name} parameters` : 'Parameters'}</legend>
            {mod?.description ? <p className="muted">{mod.description}</p> : null}
            <ParamFields
              key={draftKey}
              schema={schema}
              draft={draft}
              errors={paramErrors}
              idPrefix={`${id}-${draftKey}`}
              hint={mode === 'sweep' ? SWEEP_VALUES_HINT : undefined}
              onChange={(name, value) =>
                setDrafts((d) => ({ ...d, [draftKey]: { ...draft, [name]: value } }))
              }
            />
          </fieldset>
          {formError ? (
            <p className="form-error" role="alert">
              {formError}
            </p>
          ) : null}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Starting…' : mode === 'single' ? 'Run backtest' : 'Start sweep'}
            </button>
            <span role="status" className="notice">
              {notice ?? ''}
            </span>
          </div>
        </form>
      )}
    </Async>
  );
}
