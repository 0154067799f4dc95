/**
 * Bar series in SharedArrayBuffers: loaded once, read by every worker thread without a copy.
 * Layout per series: time, open, high, low, close, volume, each `length` float64s.
 */
import type { BarSeries } from '../bars/index.ts';
import type { Timeframe } from '../schemas/index.ts';

export interface SharedSeries {
  symbol: string;
  timeframe: Timeframe;
  length: number;
  buffer: SharedArrayBuffer;
}

const COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

export function shareSeries(s: BarSeries): SharedSeries {
  const buffer = new SharedArrayBuffer(6 * 8 * Math.max(1, s.length));
  for (const [c, k] of COLUMNS.entries()) {
    new Float64Array(buffer, c * 8 * s.length, s.length).set(s[k].subarray(0, s.length));
  }
  return { symbol: s.symbol, timeframe: s.timeframe, length: s.length, buffer };
}

export function viewSeries(d: SharedSeries): BarSeries {
  const col = (c: number) => new Float64Array(d.buffer, c * 8 * d.length, d.length);
  return {
    symbol: d.symbol,
    timeframe: d.timeframe,
    length: d.length,
    time: col(0),
    open: col(1),
    high: col(2),
    low: col(3),
    close: col(4),
    volume: col(5),
  };
}
