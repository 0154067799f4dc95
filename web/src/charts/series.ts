/**
 * Data shaping for the charts, kept free of the chart library so it is testable and ships with whichever
 * page needs it. Chart times are UTC seconds (lightweight-charts' UTCTimestamp).
 */
export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}
export interface Point {
  time: number;
  value: number;
}
export interface TradeMark {
  time: number;
  side: 'buy' | 'sell';
  text?: string;
}

export const toSeconds = (iso: string): number => Math.floor(new Date(iso).getTime() / 1000);

/** The gateway's chart bars (ISO times) as chart candles. */
export function candlesOf(
  bars: ReadonlyArray<{ time: string; open: number; high: number; low: number; close: number }>,
): Candle[] {
  return bars.map((b) => ({
    time: toSeconds(b.time),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
  }));
}

/** Keeps the last point of each second, ascending: the chart refuses duplicate or unordered times. */
export function ascendingUnique<T extends { time: number }>(points: T[]): T[] {
  const sorted = [...points].sort((a, b) => a.time - b.time);
  const out: T[] = [];
  for (const p of sorted) {
    if (out.length && out[out.length - 1].time === p.time) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

/**
 * Moves each trade onto the candle that contains it (the newest candle starting at or before it), so markers
 * land on downsampled charts too. Trades outside the candles' span are dropped.
 */
export function snapToCandles(marks: TradeMark[], candleTimes: number[], bucketSeconds: number): TradeMark[] {
  if (candleTimes.length === 0) return [];
  const last = candleTimes[candleTimes.length - 1] + bucketSeconds;
  const out: TradeMark[] = [];
  for (const m of marks) {
    if (m.time < candleTimes[0] || m.time >= last) continue;
    let lo = 0;
    let hi = candleTimes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (candleTimes[mid] <= m.time) lo = mid;
      else hi = mid - 1;
    }
    out.push({ ...m, time: candleTimes[lo] });
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Approximate width of a marker label in px (the chart's 11 px font) plus its margin. */
export const labelWidth = (text: string): number => text.length * 6.5 + 8;

/**
 * Which markers may show their text: only those whose label, centred on the marker, stays inside the
 * plot (`width` px) and clears every other marker's label by `gap` px. `xs[i]` is marker i's x in px, null
 * when it is off screen. The others keep their arrow; their text is in the tooltip.
 */
export function labelsThatFit(
  xs: readonly (number | null)[],
  texts: readonly (string | undefined)[],
  width: number,
  gap = 4,
): boolean[] {
  const half = texts.map((t) => (t ? labelWidth(t) / 2 : 6));
  // Sorted by x, each label only needs checking against its neighbours until they are out of reach.
  const order = xs
    .map((_x, i) => i)
    .filter((i) => xs[i] !== null)
    .sort((a, b) => (xs[a] as number) - (xs[b] as number));
  const reach = Math.max(0, ...half) * 2 + gap;
  const fits = xs.map(() => false);
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const x = xs[i] as number;
    if (!texts[i] || x - half[i] < 0 || x + half[i] > width) continue;
    let clear = true;
    for (const dir of [-1, 1]) {
      for (let m = k + dir; clear && m >= 0 && m < order.length; m += dir) {
        const j = order[m];
        const d = Math.abs((xs[j] as number) - x);
        if (d > reach) break;
        if (d < half[i] + half[j] + gap) clear = false;
      }
    }
    fits[i] = clear;
  }
  return fits;
}

/** Drawdown from the running peak, as a negative fraction (−0.12 = 12% below the best equity so far). */
export function drawdown(equity: Point[]): Point[] {
  let peak = Number.NEGATIVE_INFINITY;
  return equity.map((p) => {
    peak = Math.max(peak, p.value);
    return { time: p.time, value: peak > 0 ? p.value / peak - 1 : 0 };
  });
}

export function sma(candles: Candle[], period: number): Point[] {
  const out: Point[] = [];
  let sum = 0;
  for (let i = 0; i < candles.length; i++) {
    sum += candles[i].close;
    if (i >= period) sum -= candles[i - period].close;
    if (i >= period - 1) out.push({ time: candles[i].time, value: sum / period });
  }
  return out;
}

export function ema(candles: Candle[], period: number): Point[] {
  const out: Point[] = [];
  const k = 2 / (period + 1);
  let value = 0;
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i].close;
    // Seeded with the SMA of the first `period` closes, as most charting packages do.
    if (i < period) {
      value += c / period;
      if (i === period - 1) out.push({ time: candles[i].time, value });
      continue;
    }
    value = c * k + value * (1 - k);
    out.push({ time: candles[i].time, value });
  }
  return out;
}

/** Bollinger bands: SMA ± `width` population standard deviations. */
export function bollinger(
  candles: Candle[],
  period: number,
  width: number,
): { upper: Point[]; lower: Point[] } {
  const upper: Point[] = [];
  const lower: Point[] = [];
  for (let i = period - 1; i < candles.length; i++) {
    let sum = 0;
    for (let j = i - period + 1; j <= i; j++) sum += candles[j].close;
    const mean = sum / period;
    let sq = 0;
    for (let j = i - period + 1; j <= i; j++) sq += (candles[j].close - mean) ** 2;
    const sd = Math.sqrt(sq / period);
    upper.push({ time: candles[i].time, value: mean + width * sd });
    lower.push({ time: candles[i].time, value: mean - width * sd });
  }
  return { upper, lower };
}
