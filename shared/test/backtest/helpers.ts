import { runEngine } from '../../src/backtest/engine.ts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig, type EngineResult } from '../../src/backtest/types.ts';
import { type BarSeries, emptySeries } from '../../src/bars/index.ts';
import type { Decision, OrderHint, StrategyInstance } from '../../src/strategies/types.ts';
import { type Ohlcv, readOhlcv } from '../helpers/market-data.ts';

export const DAY = 86_400_000;
export const T0 = Date.parse('2024-01-01T00:00:00Z');

/** A series from [open, high, low, close] rows, one bar per `step` from `start`. */
export function bars(
  symbol: string,
  rows: [number, number, number, number][],
  start = T0,
  step = DAY,
): BarSeries {
  const s = emptySeries(symbol, '1Day', rows.length);
  rows.forEach(([o, h, l, c], i) => {
    s.time[i] = start + i * step;
    s.open[i] = o;
    s.high[i] = h;
    s.low[i] = l;
    s.close[i] = c;
    s.volume[i] = 1000;
  });
  return s;
}

export function seriesOf(symbol: string, d: Ohlcv): BarSeries {
  const s = emptySeries(symbol, '1Day', d.close.length);
  for (let i = 0; i < d.close.length; i++) {
    s.time[i] = Date.parse(
      d.date[i].length === 10 ? `${d.date[i]}T00:00:00Z` : `${d.date[i].replace(' ', 'T')}Z`,
    );
    s.open[i] = d.open[i];
    s.high[i] = d.high[i];
    s.low[i] = d.low[i];
    s.close[i] = d.close[i];
    s.volume[i] = d.volume[i];
  }
  return s;
}

export const fileSeries = (file: string, symbol = 'X'): BarSeries => seriesOf(symbol, readOhlcv(file));

/** A strategy that decides what it is told, bar by bar: { barIndex: decision | [decision, hint] }. */
export class Script implements StrategyInstance {
  private i = -1;
  private hint: OrderHint | null = null;
  constructor(private readonly plan: Record<number, Decision | [Decision, OrderHint]>) {}
  next(): Decision {
    const p = this.plan[++this.i];
    if (p === undefined) return 0;
    if (Array.isArray(p)) {
      this.hint = p[1];
      return p[0];
    }
    this.hint = null;
    return p;
  }
  order(): OrderHint | null {
    return this.hint;
  }
}

export function run(
  series: BarSeries | BarSeries[],
  plans:
    | Record<number, Decision | [Decision, OrderHint]>
    | Record<number, Decision | [Decision, OrderHint]>[],
  cfg: Partial<EngineConfig> = {},
): EngineResult {
  const list = Array.isArray(series) ? series : [series];
  const planList = Array.isArray(plans) ? plans : [plans];
  return runEngine(
    list,
    planList.map((p) => new Script(p)),
    { ...DEFAULT_ENGINE_CONFIG, sizing: { type: 'fixed_qty', qty: 100 }, ...cfg },
  );
}
