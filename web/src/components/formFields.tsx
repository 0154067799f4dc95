/**
 * What the forms that configure a strategy run share (the backtest form, the new-strategy form): a
 * labelled field with its hint and its error, the ARIA that ties them to the input, the module and
 * timeframe pickers, and reading symbols and sizing from what was typed.
 */
import { type BarSeriesList, type Exits, type Sizing, TIMEFRAMES } from '@weaver/shared/schemas';
import type { ReactNode } from 'react';
import type { StrategyModuleList } from '../api/types.ts';

export type SizingType = Sizing['type'];

export const SIZING_LABEL: Record<SizingType, string> = {
  fixed_qty: 'Units per trade',
  fixed_notional: 'Dollars per trade',
  percent_equity: '% of equity per trade',
};

/** The sizing the API takes, from the chosen kind and the typed value (checked by the server). */
export function sizingOf(type: SizingType, value: string): Sizing {
  const v = value.trim();
  if (type === 'fixed_qty') return { type, qty: v };
  if (type === 'fixed_notional') return { type, notional: v };
  return { type, percent: Number(v) };
}

/** "aapl, msft nvda" → ["AAPL", "MSFT", "NVDA"]. */
export const parseSymbols = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((x) => x.trim().toUpperCase())
    .filter(Boolean);

/** Until the user types some: up to `count` symbols that have stored bars in the first stored timeframe. */
export function storedSymbols(stored: BarSeriesList['items'], count: number): string {
  const timeframe = stored[0]?.timeframe;
  return [...new Set(stored.filter((x) => x.timeframe === timeframe).map((x) => x.symbol))]
    .slice(0, count)
    .join(', ');
}

/**
 * `field` lays out a labelled input with its hint and its error; `aria` gives the input its id and
 * points it at both. `id` is the form's useId(); `errors` maps a field key to its message.
 */
export function fieldKit(id: string, errors: Readonly<Record<string, string | undefined>>) {
  const aria = (key: string, hint = false) => ({
    id: `${id}-${key}`,
    'aria-invalid': errors[key] ? true : undefined,
    'aria-describedby':
      [hint ? `${id}-${key}-hint` : '', errors[key] ? `${id}-${key}-err` : ''].filter(Boolean).join(' ') ||
      undefined,
  });
  const field = (key: string, label: string, input: ReactNode, hint?: string) => (
    <div className={`field ${errors[key] ? 'field-invalid' : ''}`}>
      <label htmlFor={`${id}-${key}`}>{label}</label>
      {input}
      {hint ? (
        <div className="field-hint" id={`${id}-${key}-hint`}>
          {hint}
        </div>
      ) : null}
      {errors[key] ? (
        <div className="field-error" id={`${id}-${key}-err`}>
          {label} {errors[key]}
        </div>
      ) : null}
    </div>
  );
  return { aria, field };
}

/** The strategy module picker; only modules that load and have a parameter schema are offered. */
export function ModuleSelect({
  id,
  label,
  modules,
  value,
  onChange,
}: {
  id: string;
  label: string;
  modules: StrategyModuleList['items'];
  value: string;
  onChange: (name: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {modules.map((m) => (
          <option key={m.name} value={m.name}>
            {m.name}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The timeframe picker; `aria` is the field kit's for its key. */
export function TimeframeSelect({
  aria,
  value,
  onChange,
}: {
  aria: ReturnType<ReturnType<typeof fieldKit>['aria']>;
  value: string;
  onChange: (timeframe: string) => void;
}) {
  return (
    <select {...aria} value={value} onChange={(e) => onChange(e.target.value)}>
      {TIMEFRAMES.map((t) => (
        <option key={t}>{t}</option>
      ))}
    </select>
  );
}

/** The sizing kind picker; the value's own input is labelled with SIZING_LABEL of the kind chosen. */
export function SizingSelect({
  aria,
  value,
  onChange,
}: {
  aria: ReturnType<ReturnType<typeof fieldKit>['aria']>;
  value: SizingType;
  onChange: (sizing: SizingType) => void;
}) {
  return (
    <select {...aria} value={value} onChange={(e) => onChange(e.target.value as SizingType)}>
      <option value="fixed_qty">fixed units</option>
      <option value="fixed_notional">fixed dollars</option>
      <option value="percent_equity">% of equity</option>
    </select>
  );
}

/** A percentage typed in a form ("5") as the fraction the API takes (0.05); blank is none. */
export const percentOf = (text: string): number | undefined =>
  text.trim() === '' ? undefined : Number(text) / 100;

/** The exits' inputs, as percentages of the entry price. */
export const EXIT_LABELS = {
  stopLoss: 'Stop loss (%)',
  takeProfit: 'Take profit (%)',
  trailingStop: 'Trailing stop (%)',
} as const;
export type ExitKey = keyof typeof EXIT_LABELS;
export const EXIT_KEYS = Object.keys(EXIT_LABELS) as ExitKey[];

/** The exits typed as percentages, as the fractions the API takes; blank ones left out. */
export function exitsOf(typed: Readonly<Record<ExitKey, string>>): Exits {
  const out: Exits = {};
  for (const k of EXIT_KEYS) {
    const f = percentOf(typed[k]);
    if (f !== undefined) out[k] = f;
  }
  return out;
}
