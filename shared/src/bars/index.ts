import type { Bar, Timeframe } from '../schemas/index.ts';

/**
 * Bars of one symbol and timeframe in columns: what indicators, strategies and the backtester read.
 * `time` is the bar's start in epoch milliseconds. Columns are ascending by time and of equal length.
 */
export interface BarSeries {
  symbol: string;
  timeframe: Timeframe;
  length: number;
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export function emptySeries(symbol: string, timeframe: Timeframe, length = 0): BarSeries {
  return {
    symbol,
    timeframe,
    length,
    time: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

/** Bars (any order, one symbol and timeframe) to a time-ascending series. */
export function seriesFromBars(symbol: string, timeframe: Timeframe, bars: readonly Bar[]): BarSeries {
  const sorted = [...bars].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const s = emptySeries(symbol, timeframe, sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    const b = sorted[i];
    s.time[i] = Date.parse(b.time);
    s.open[i] = b.open;
    s.high[i] = b.high;
    s.low[i] = b.low;
    s.close[i] = b.close;
    s.volume[i] = b.volume;
  }
  return s;
}

export function barAt(s: BarSeries, i: number): Bar {
  return {
    symbol: s.symbol,
    timeframe: s.timeframe,
    time: new Date(s.time[i]).toISOString(),
    open: s.open[i],
    high: s.high[i],
    low: s.low[i],
    close: s.close[i],
    volume: s.volume[i],
  };
}

export function barsFromSeries(s: BarSeries): Bar[] {
  const out: Bar[] = new Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = barAt(s, i);
  return out;
}
