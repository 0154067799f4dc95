/**
 * Loading a backtest's bars from Postgres: the range asked for, plus the strategy's warm-up bars just
 * before it. The one module of backtest/ besides service.ts that touches the database; the engine never does.
 */
import type { Sql } from 'postgres';
import { type BarSeries, emptySeries } from '../bars/index.ts';
import { loadSeries } from '../db/bars.ts';
import { HttpError } from '../runtime/errors.ts';
import type { Timeframe } from '../schemas/index.ts';

export function concatSeries(a: BarSeries, b: BarSeries): BarSeries {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const s = emptySeries(a.symbol, a.timeframe, a.length + b.length);
  for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
    s[k].set(a[k].subarray(0, a.length), 0);
    s[k].set(b[k].subarray(0, b.length), a.length);
  }
  return s;
}

export interface DataRequest {
  symbols: readonly string[];
  timeframe: Timeframe;
  /** ISO; bars before it are loaded only as warm-up. */
  from?: string;
  to?: string;
  /** Bars to load before `from` so the strategy's indicators are ready on the first traded bar. */
  warmup: number;
}

/**
 * One series per symbol. A symbol without a bar in the range is a 422 naming `symbols.<i>` (and the
 * range), so a caller learns which symbol to import before a run starts.
 */
export async function loadBacktestData(sql: Sql, req: DataRequest): Promise<BarSeries[]> {
  const out: BarSeries[] = [];
  for (const [i, symbol] of req.symbols.entries()) {
    const main = await loadSeries(sql, { symbol, timeframe: req.timeframe, from: req.from, to: req.to });
    if (main.length === 0) {
      const range =
        req.from || req.to ? ` between ${req.from ?? 'the start'} and ${req.to ?? 'the end'}` : '';
      throw new HttpError(422, 'no_data', `no ${req.timeframe} bars stored for ${symbol}${range}`, {
        [`symbols.${i}`]: `has no ${req.timeframe} bars${range}`,
      });
    }
    const warm =
      req.from && req.warmup > 0
        ? await loadSeries(sql, {
            symbol,
            timeframe: req.timeframe,
            to: Date.parse(req.from) - 1,
            limit: req.warmup,
          })
        : emptySeries(symbol, req.timeframe);
    out.push(concatSeries(warm, main));
  }
  return out;
}
