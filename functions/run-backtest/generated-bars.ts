/**
 * Test data for run-backtest that needs no ../shared/data: five years of daily bars from the seeded demo
 * market (same seed, same bars), and SMA crossover worked out on them by hand — a plain loop over the
 * closes with backtrader's crossing rule and next-open fills — to check the function's answers against.
 */
import { DemoMarket } from '@weaver/shared/demo';
import type { Bar } from '@weaver/shared/schemas';

export const GENERATED_SYMBOL = 'GENX';
const FROM = Date.UTC(2010, 0, 1);
const TO = Date.UTC(2014, 11, 31);

let cached: Bar[] | undefined;
/** 1,826 daily bars of a seeded random walk (weekends included, as a crypto market trades). */
export function generatedBars(): Bar[] {
  cached ??= new DemoMarket({ seed: 7 }).bars(GENERATED_SYMBOL, '1Day', FROM, TO);
  return cached;
}

export interface ReferenceTrade {
  entryTime: string;
  entryPrice: number;
  exitTime: string | null;
  exitPrice: number | null;
}

/**
 * Long-only SMA(fast)/SMA(slow) crossover with `qty` shares, no costs: BUY where the fast average crosses
 * above the slow one (the previous non-zero difference was negative), SELL where it crosses below; each
 * fills at the next bar's open. A position still open at the end is valued at the last close.
 */
export function smaCrossoverReference(
  bars: readonly Bar[],
  fast: number,
  slow: number,
  qty: number,
  cash: number,
): { trades: ReferenceTrade[]; endEquity: number } {
  const avg = (end: number, n: number): number => {
    if (end + 1 < n) return Number.NaN;
    let sum = 0;
    for (let i = end - n + 1; i <= end; i++) sum += bars[i].close;
    return sum / n;
  };
  const trades: ReferenceTrade[] = [];
  let open: ReferenceTrade | null = null;
  let lastDiff = Number.NaN;
  let money = cash;
  for (let i = 0; i + 1 < bars.length; i++) {
    const diff = avg(i, fast) - avg(i, slow);
    if (Number.isNaN(diff)) continue;
    const up = lastDiff < 0 && diff > 0;
    const down = lastDiff > 0 && diff < 0;
    if (diff !== 0 || Number.isNaN(lastDiff)) lastDiff = diff;
    const next = bars[i + 1];
    if (up && !open) {
      open = { entryTime: next.time, entryPrice: next.open, exitTime: null, exitPrice: null };
      money -= qty * next.open;
    } else if (down && open) {
      open.exitTime = next.time;
      open.exitPrice = next.open;
      money += qty * next.open;
      trades.push(open);
      open = null;
    }
  }
  if (open) trades.push(open);
  const endEquity = money + (open ? qty * bars[bars.length - 1].close : 0);
  return { trades, endEquity };
}
