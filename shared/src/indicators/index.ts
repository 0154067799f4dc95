/**
 * Streaming technical indicators: one value in, the reading out, O(1) per value and no allocation, so
 * a strategy can run them inside the backtester's hot loop. Readings are NaN during warm-up.
 */
export * from './moving-averages.ts';
export * from './oscillators.ts';
export * from './rolling.ts';

/** Runs a one-input indicator over a whole array (tests, charts); NaN where it is still warming up. */
export function indicatorSeries(
  values: ArrayLike<number>,
  indicator: { push(x: number): number },
): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = indicator.push(values[i]);
  return out;
}
