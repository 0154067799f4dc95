import { type BarSeriesList, type BarsQuery, type ChartBar, TIMEFRAME_MS } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';

interface Row {
  t: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

const toBar = (r: Row): ChartBar => ({
  time: new Date(r.t).toISOString(),
  open: r.open,
  high: r.high,
  low: r.low,
  close: r.close,
  volume: r.volume,
});

/**
 * Candles for a chart at most `width` wide. Without `from`, the newest `width` stored bars (up to `to`);
 * with it, every bar in the range, aggregated in SQL into OHLCV buckets of a whole number of timeframes
 * when the range holds more than `width` of them, so a year of minutes costs one indexed scan and a
 * few hundred rows on the wire.
 */
export async function chartBars(
  sql: Sql,
  q: z.output<typeof BarsQuery>,
  now: number,
): Promise<{ bucketMs: number; downsampled: boolean; bars: ChartBar[] }> {
  const tf = TIMEFRAME_MS[q.timeframe];
  const to = q.to ?? new Date(now).toISOString();
  if (!q.from) {
    const rows = await sql<Row[]>`
      SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, open, high, low, close, volume FROM bars
      WHERE symbol = ${q.symbol} AND timeframe = ${q.timeframe} AND ts <= ${to}::timestamptz
      ORDER BY ts DESC LIMIT ${q.width}`;
    rows.reverse();
    return { bucketMs: tf, downsampled: false, bars: rows.map(toBar) };
  }
  const span = Date.parse(to) - Date.parse(q.from);
  const bucket = tf * Math.max(1, Math.ceil(span / tf / q.width));
  if (bucket === tf) {
    const rows = await sql<Row[]>`
      SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, open, high, low, close, volume FROM bars
      WHERE symbol = ${q.symbol} AND timeframe = ${q.timeframe} AND ts >= ${q.from}::timestamptz AND ts <= ${to}::timestamptz
      ORDER BY ts LIMIT ${q.width}`;
    return { bucketMs: tf, downsampled: false, bars: rows.map(toBar) };
  }
  // Buckets aligned to multiples of their length since the epoch; open = first bar's, close = last bar's.
  const rows = await sql<Row[]>`
    SELECT (floor(extract(epoch FROM ts) * 1000 / ${bucket}) * ${bucket})::float8 AS t,
           (array_agg(open ORDER BY ts))[1] AS open, max(high) AS high, min(low) AS low,
           (array_agg(close ORDER BY ts DESC))[1] AS close, sum(volume) AS volume
    FROM bars
    WHERE symbol = ${q.symbol} AND timeframe = ${q.timeframe} AND ts >= ${q.from}::timestamptz AND ts <= ${to}::timestamptz
    GROUP BY 1 ORDER BY 1`;
  return { bucketMs: bucket, downsampled: true, bars: rows.map(toBar) };
}

/** Each stored (symbol, timeframe) with its first and last bar: a skip scan over the primary key. */
export async function barSeries(sql: Sql): Promise<BarSeriesList> {
  const rows = await sql<{ symbol: string; timeframe: string; first: Date; last: Date }[]>`
    WITH RECURSIVE s AS (
      (SELECT symbol, timeframe FROM bars ORDER BY symbol, timeframe LIMIT 1)
      UNION ALL
      SELECT n.symbol, n.timeframe FROM s CROSS JOIN LATERAL (
        SELECT symbol, timeframe FROM bars WHERE (symbol, timeframe) > (s.symbol, s.timeframe)
        ORDER BY symbol, timeframe LIMIT 1) n
    )
    SELECT s.symbol, s.timeframe,
      (SELECT ts FROM bars b WHERE b.symbol = s.symbol AND b.timeframe = s.timeframe ORDER BY ts LIMIT 1) AS first,
      (SELECT ts FROM bars b WHERE b.symbol = s.symbol AND b.timeframe = s.timeframe ORDER BY ts DESC LIMIT 1) AS last
    FROM s ORDER BY s.symbol, s.timeframe`;
  return {
    items: rows.map((r) => ({
      symbol: r.symbol,
      timeframe: r.timeframe as BarSeriesList['items'][number]['timeframe'],
      first: r.first.toISOString(),
      last: r.last.toISOString(),
    })),
  };
}

/** Close of the newest stored bar of each symbol, whatever its timeframe (one index probe per timeframe). */
export async function lastPrices(sql: Sql, symbols: readonly string[]): Promise<Map<string, number>> {
  if (symbols.length === 0) return new Map();
  const rows = await sql<{ symbol: string; close: number }[]>`
    SELECT s.symbol, x.close FROM unnest(${[...new Set(symbols)]}::text[]) AS s(symbol)
    CROSS JOIN LATERAL (
      SELECT b.close FROM unnest(${Object.keys(TIMEFRAME_MS)}::text[]) AS tf(timeframe)
      CROSS JOIN LATERAL (
        SELECT close, ts FROM bars WHERE symbol = s.symbol AND timeframe = tf.timeframe ORDER BY ts DESC LIMIT 1
      ) b
      ORDER BY b.ts DESC LIMIT 1
    ) x`;
  return new Map(rows.map((r) => [r.symbol, r.close]));
}
