import type { Sql } from 'postgres';
import { type BarSeries, emptySeries } from '../bars/index.ts';
import type { Bar, Timeframe } from '../schemas/index.ts';

/** Rows per COPY chunk handed to the socket: large enough to amortise, small enough to stream. */
const CHUNK = 8192;

const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `new Date(t).toISOString()` for ascending series, several times faster: the date part is formatted
 * once per UTC day and the time of day from lookup tables. On a 2-core server the client's line
 * building competes with PostgreSQL for CPU, so this is a large share of bulk-ingest speed.
 */
export function isoFormatter(): (t: number) => string {
  let dayStart = Number.NaN;
  let dayPrefix = '';
  return (t) => {
    let ms = t - dayStart;
    if (!(ms >= 0 && ms < DAY_MS)) {
      // Outside integer ms in years 0000-9999 the general formatter is exact; use it.
      if (!Number.isInteger(t) || t < -62_167_219_200_000 || t > 253_402_300_799_999)
        return new Date(t).toISOString();
      dayStart = Math.floor(t / DAY_MS) * DAY_MS;
      dayPrefix = new Date(dayStart).toISOString().slice(0, 11);
      ms = t - dayStart;
    }
    return `${dayPrefix}${PAD2[(ms / 3_600_000) | 0]}:${PAD2[((ms / 60_000) | 0) % 60]}:${PAD2[((ms / 1000) | 0) % 60]}.${PAD3[ms % 1000]}Z`;
  };
}

function* copyLines(bars: readonly Bar[] | BarSeries): Generator<string> {
  let buf = '';
  let n = 0;
  if (Array.isArray(bars)) {
    for (const b of bars as readonly Bar[]) {
      buf += `${b.symbol}\t${b.timeframe}\t${b.time}\t${b.open}\t${b.high}\t${b.low}\t${b.close}\t${b.volume}\n`;
      if (++n === CHUNK) {
        yield buf;
        buf = '';
        n = 0;
      }
    }
  } else {
    const s = bars as BarSeries;
    const head = `${s.symbol}\t${s.timeframe}\t`;
    const iso = isoFormatter();
    for (let i = 0; i < s.length; i++) {
      buf += `${head}${iso(s.time[i])}\t${s.open[i]}\t${s.high[i]}\t${s.low[i]}\t${s.close[i]}\t${s.volume[i]}\n`;
      if (++n === CHUNK) {
        yield buf;
        buf = '';
        n = 0;
      }
    }
  }
  if (buf) yield buf;
}

async function copyInto(sql: Sql, table: string, bars: readonly Bar[] | BarSeries): Promise<void> {
  const stream = await sql
    .unsafe(`COPY ${table} (symbol, timeframe, ts, open, high, low, close, volume) FROM STDIN`)
    .writable();
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
    const lines = copyLines(bars);
    const pump = (): void => {
      for (let next = lines.next(); !next.done; next = lines.next()) {
        if (!stream.write(next.value)) {
          stream.once('drain', pump);
          return;
        }
      }
      stream.end();
    };
    pump();
  });
}

/** The (symbol, timeframe) ranges a batch covers, epoch ms. */
function rangesOf(
  bars: readonly Bar[] | BarSeries,
): { symbol: string; timeframe: string; from: number; to: number }[] {
  if (!Array.isArray(bars)) {
    const s = bars as BarSeries;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < s.length; i++) {
      if (s.time[i] < from) from = s.time[i];
      if (s.time[i] > to) to = s.time[i];
    }
    return [{ symbol: s.symbol, timeframe: s.timeframe, from, to }];
  }
  const by = new Map<string, { symbol: string; timeframe: string; from: number; to: number }>();
  for (const b of bars as readonly Bar[]) {
    const t = Date.parse(b.time);
    const key = `${b.symbol}\u0000${b.timeframe}`;
    const r = by.get(key);
    if (!r) by.set(key, { symbol: b.symbol, timeframe: b.timeframe, from: t, to: t });
    else {
      if (t < r.from) r.from = t;
      if (t > r.to) r.to = t;
    }
  }
  return [...by.values()];
}

async function overlaps(sql: Sql, bars: readonly Bar[] | BarSeries): Promise<boolean> {
  for (const r of rangesOf(bars)) {
    const [hit] = await sql`
      SELECT 1 FROM bars WHERE symbol = ${r.symbol} AND timeframe = ${r.timeframe}
        AND ts BETWEEN ${new Date(r.from)} AND ${new Date(r.to)} LIMIT 1`;
    if (hit) return true;
  }
  return false;
}

/**
 * Rejects what the table's CHECK would reject, before a byte is sent: postgres.js loses an error that
 * the server raises during COPY FROM STDIN, so a COPY must not fail on data. Returns whether the batch
 * repeats a (symbol, timeframe, time), which a plain COPY cannot take.
 */
function checkBatch(bars: readonly Bar[] | BarSeries): { repeats: boolean } {
  const bad = (i: number, what: string): never => {
    throw new RangeError(`bar ${i}: ${what}`);
  };
  const ok = (o: number, h: number, l: number, c: number, v: number, i: number): void => {
    if (!(l > 0)) bad(i, 'low must be > 0');
    if (!(h < Number.POSITIVE_INFINITY)) bad(i, 'high must be finite');
    if (!(o >= l && o <= h)) bad(i, 'open must be within low..high');
    if (!(c >= l && c <= h)) bad(i, 'close must be within low..high');
    if (!(v >= 0)) bad(i, 'volume must be >= 0');
  };
  if (!Array.isArray(bars)) {
    const s = bars as BarSeries;
    let repeats = false;
    for (let i = 0; i < s.length; i++) {
      ok(s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i], i);
      if (!Number.isFinite(s.time[i])) bad(i, 'time must be a valid instant');
      if (i > 0 && s.time[i] <= s.time[i - 1]) repeats = true;
    }
    return { repeats };
  }
  const seen = new Set<string>();
  let repeats = false;
  (bars as readonly Bar[]).forEach((b, i) => {
    ok(b.open, b.high, b.low, b.close, b.volume, i);
    if (Number.isNaN(Date.parse(b.time))) bad(i, 'time must be a valid instant');
    const key = `${b.symbol}|${b.timeframe}|${Date.parse(b.time)}`;
    if (seen.has(key)) repeats = true;
    seen.add(key);
  });
  return { repeats };
}

/**
 * Writes bars with COPY, all-or-nothing. Bars already stored (same symbol, timeframe, time) are
 * replaced: a venue may revise its last bar. A batch over a range with no stored bars (history
 * downloads, the common case) is copied straight into `bars`; one that overlaps goes through a
 * temporary table and a single INSERT … ON CONFLICT. A per-series advisory lock keeps concurrent
 * writers of the same series from racing between the overlap check and the COPY. Returns rows written.
 */
export async function upsertBars(sql: Sql, bars: readonly Bar[] | BarSeries): Promise<number> {
  const n = Array.isArray(bars) ? bars.length : (bars as BarSeries).length;
  if (n === 0) return 0;
  const { repeats } = checkBatch(bars);
  const keys = rangesOf(bars)
    .map((r) => `${r.symbol}|${r.timeframe}`)
    .sort();
  await sql.begin(async (tx) => {
    for (const key of keys) await tx`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
    const t = tx as unknown as Sql;
    if (!repeats && !(await overlaps(t, bars))) {
      await copyInto(t, 'bars', bars);
      return;
    }
    await tx`CREATE TEMP TABLE bars_incoming (LIKE bars INCLUDING DEFAULTS) ON COMMIT DROP`;
    await copyInto(t, 'bars_incoming', bars);
    await tx`
      INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume)
      SELECT DISTINCT ON (symbol, timeframe, ts) symbol, timeframe, ts, open, high, low, close, volume
      FROM bars_incoming
      ORDER BY symbol, timeframe, ts
      ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET
        open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
        close = EXCLUDED.close, volume = EXCLUDED.volume`;
  });
  return n;
}

export interface BarQuery {
  symbol: string;
  timeframe: Timeframe;
  /** Inclusive, epoch ms or ISO. */
  from?: number | string;
  /** Inclusive, epoch ms or ISO. */
  to?: number | string;
  /** With `from` unset: the newest `limit` bars; otherwise the first `limit` from `from`. */
  limit?: number;
}

const toDate = (t: number | string): Date => new Date(t);

/** Reads bars into a time-ascending column series. */
export async function loadSeries(sql: Sql, q: BarQuery): Promise<BarSeries> {
  const from = q.from === undefined ? null : toDate(q.from);
  const to = q.to === undefined ? null : toDate(q.to);
  const newestFirst = q.from === undefined && q.limit !== undefined;
  const rows = await sql<{ t: number; o: number; h: number; l: number; c: number; v: number }[]>`
    SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, open AS o, high AS h, low AS l, close AS c, volume AS v
    FROM bars
    WHERE symbol = ${q.symbol} AND timeframe = ${q.timeframe}
      AND (${from}::timestamptz IS NULL OR ts >= ${from})
      AND (${to}::timestamptz IS NULL OR ts <= ${to})
    ORDER BY ts ${newestFirst ? sql`DESC` : sql`ASC`}
    ${q.limit !== undefined ? sql`LIMIT ${q.limit}` : sql``}`;
  if (newestFirst) rows.reverse();
  const s = emptySeries(q.symbol, q.timeframe, rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    s.time[i] = r.t;
    s.open[i] = r.o;
    s.high[i] = r.h;
    s.low[i] = r.l;
    s.close[i] = r.c;
    s.volume[i] = r.v;
  }
  return s;
}

/** Time of the newest stored bar (epoch ms), or null. */
export async function latestBarTime(sql: Sql, symbol: string, timeframe: Timeframe): Promise<number | null> {
  const [row] = await sql<{ t: number | null }[]>`
    SELECT (extract(epoch FROM max(ts)) * 1000)::float8 AS t FROM bars WHERE symbol = ${symbol} AND timeframe = ${timeframe}`;
  return row?.t ?? null;
}
