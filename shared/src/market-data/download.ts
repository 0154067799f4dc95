/**
 * Bar downloads the user can trust, for `weaver fetch-history` and fetch-bars' incremental runs alike.
 *
 * Each page the venue returns is validated, written with COPY (upsertBars: a bar already stored is
 * replaced, never duplicated) and then recorded as covered, so an interrupted download resumes at the
 * first instant no finished page covers. Pacing against the venue's rate limit is the adapter's (the
 * Alpaca SDK's token bucket, CCXT's throttle); faults are retried there too.
 */
import type { Sql } from 'postgres';
import { clock } from '../clock/index.ts';
import { latestBarTime, upsertBars } from '../db/bars.ts';
import type { ExchangeAdapter } from '../exchanges/types.ts';
import { type Logger, logger } from '../log/index.ts';
import { type Bar, TIMEFRAME_MS, type Timeframe } from '../schemas/index.ts';
import { addCoverage, coveredRanges, missingRanges, type Range, type Series } from './coverage.ts';

/**
 * How long after a bar's end the venue may still publish or revise it. Coverage never extends closer
 * to "now" than this, so a bar the venue had not published yet is fetched by the next run, not lost.
 */
export const SETTLE_MS = 2 * 60_000;

export interface DownloadProgress {
  symbol: string;
  phase: 'start' | 'page' | 'done' | 'error';
  /** Share of the requested range that is stored (0..1), counting what earlier runs covered. */
  fraction: number;
  /** Bars written by this run so far. */
  written: number;
  /** Start time of the newest bar known downloaded, ISO. */
  through: string | null;
  error?: string;
}

export interface SymbolDownload {
  symbol: string;
  written: number;
  /** Bars the venue sent that failed validation (high < low, non-positive price, ...): not stored. */
  rejected: number;
  pages: number;
  /** Where this run started, when earlier runs had covered the beginning of the range. */
  resumedFrom: string | null;
  /** True when earlier runs had already covered the whole range. */
  upToDate: boolean;
  through: string | null;
  error?: string;
}

export interface DownloadOptions {
  sql: Sql;
  /** Name of the venue, as coverage rows record it. */
  exchange: string;
  adapter: ExchangeAdapter;
  symbols: readonly string[];
  timeframe: Timeframe;
  /** Inclusive ISO instant or YYYY-MM-DD. */
  from: string;
  /** Inclusive; defaults to now. */
  to?: string;
  pageSize?: number;
  /** Symbols downloaded at once (the adapter still paces requests). */
  concurrency?: number;
  now?: number;
  onProgress?: (p: DownloadProgress) => void;
  log?: Logger;
}

export interface DownloadResult {
  symbols: SymbolDownload[];
  written: number;
  rejected: number;
}

const toMs = (t: string): number => Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);

/** What COPY and the bars table's CHECK accept: finite, positive, open and close within low..high. */
export function validBar(b: Bar): boolean {
  return (
    Number.isFinite(b.open) &&
    Number.isFinite(b.high) &&
    Number.isFinite(b.low) &&
    Number.isFinite(b.close) &&
    Number.isFinite(b.volume) &&
    b.low > 0 &&
    b.low <= b.high &&
    b.open >= b.low &&
    b.open <= b.high &&
    b.close >= b.low &&
    b.close <= b.high &&
    b.volume >= 0 &&
    !Number.isNaN(Date.parse(b.time))
  );
}

/** Counters a download updates as pages land, so an error midway still reports what was stored. */
interface Tally {
  written: number;
  rejected: number;
  pages: number;
  /** Newest bar start stored, epoch ms. */
  last: number | null;
}

/**
 * Downloads bars of one series with start times in [a, b] and records the coverage page by page.
 * `settledEnd` is the latest instant that may be marked covered once the venue has nothing more.
 */
async function writeRange(
  o: { sql: Sql; adapter: ExchangeAdapter; series: Series; pageSize?: number; log: Logger; now: number },
  a: number,
  b: number,
  settledEnd: number,
  tally: Tally,
  onPage: () => void,
): Promise<void> {
  const { series } = o;
  const step = TIMEFRAME_MS[series.timeframe];
  for await (const page of o.adapter.getBars({
    symbol: series.symbol,
    timeframe: series.timeframe,
    start: new Date(a).toISOString(),
    end: new Date(b).toISOString(),
    pageSize: o.pageSize,
  })) {
    const good: Bar[] = [];
    let newest: number | null = null;
    for (const bar of page) {
      const t = Date.parse(bar.time);
      // A venue may resend a boundary bar, or one past the end asked for; a bar still forming is
      // left for the next run.
      if (!(t >= a && t <= b) || t + step > o.now) continue;
      if (newest === null || t > newest) newest = t;
      if (validBar(bar)) good.push(bar);
      else {
        tally.rejected++;
        o.log.warn(
          { symbol: series.symbol, timeframe: series.timeframe, time: bar.time },
          'venue sent an invalid bar; not stored',
        );
      }
    }
    if (good.length) tally.written += await upsertBars(o.sql, good);
    tally.pages++;
    // Everything up to the newest bar of this page is now stored (the venue pages in time order).
    if (newest !== null) {
      await addCoverage(o.sql, series, a, Math.min(newest, settledEnd));
      tally.last = Math.max(tally.last ?? newest, newest);
    }
    onPage();
  }
  // The venue has nothing more in [a, b]: the quiet rest is covered too, up to what has settled.
  await addCoverage(o.sql, series, a, Math.min(b, settledEnd));
}

async function downloadSymbol(
  o: Omit<DownloadOptions, 'from' | 'symbols'>,
  symbol: string,
  from: number,
  now: number,
  log: Logger,
): Promise<SymbolDownload> {
  const series: Series = { exchange: o.exchange, symbol, timeframe: o.timeframe };
  const step = TIMEFRAME_MS[o.timeframe];
  const to = Math.min(o.to ? toMs(o.to) : now, now);
  const settledEnd = now - step - SETTLE_MS;
  const result: SymbolDownload = {
    symbol,
    written: 0,
    rejected: 0,
    pages: 0,
    resumedFrom: null,
    upToDate: false,
    through: null,
  };
  const total = Math.max(to - from, 1);
  const report = (phase: DownloadProgress['phase'], fraction: number, error?: string): void =>
    o.onProgress?.({
      symbol,
      phase,
      fraction: Math.min(Math.max(fraction, 0), 1),
      written: result.written,
      through: result.through,
      error,
    });
  try {
    const covered = await coveredRanges(o.sql, series);
    const missing: Range[] = missingRanges(from, to, covered);
    if (missing.length === 0) {
      result.upToDate = true;
      report('done', 1);
      return result;
    }
    if (missing[0][0] > from) result.resumedFrom = new Date(missing[0][0]).toISOString();
    let missingMs = missing.reduce((n, [s, e]) => n + (e - s), 0);
    report('start', 1 - missingMs / total);
    const tally: Tally = { written: 0, rejected: 0, pages: 0, last: null };
    const sync = (): void => {
      result.written = tally.written;
      result.rejected = tally.rejected;
      result.pages = tally.pages;
      if (tally.last !== null) result.through = new Date(tally.last).toISOString();
    };
    try {
      for (const [a, b] of missing) {
        await writeRange(
          { sql: o.sql, adapter: o.adapter, series, pageSize: o.pageSize, log, now },
          a,
          b,
          settledEnd,
          tally,
          () => {
            sync();
            const done = tally.last === null || tally.last < a ? 0 : tally.last - a;
            report('page', 1 - (missingMs - done) / total);
          },
        );
        missingMs -= b - a;
      }
    } finally {
      sync();
    }
    report('done', 1);
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log.error(
      { symbol, timeframe: o.timeframe, err: result.error },
      'bar download stopped; the next run resumes it',
    );
    report('error', 0, result.error);
  }
  return result;
}

/** Runs `fn` for each symbol, `concurrency` at a time, results in input order. */
async function eachSymbol(
  symbols: readonly string[],
  concurrency: number,
  fn: (symbol: string) => Promise<SymbolDownload>,
): Promise<SymbolDownload[]> {
  const queue = [...symbols];
  const results = new Map<string, SymbolDownload>();
  const worker = async (): Promise<void> => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) results.set(s, await fn(s));
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, symbols.length)) }, worker));
  return symbols.map((s) => results.get(s) as SymbolDownload);
}

const summarise = (symbols: SymbolDownload[]): DownloadResult => ({
  symbols,
  written: symbols.reduce((n, s) => n + s.written, 0),
  rejected: symbols.reduce((n, s) => n + s.rejected, 0),
});

/**
 * Downloads every symbol's bars in [from, to] that earlier runs have not, page by page, with COPY.
 * A symbol that fails is reported (with what it got so far, kept) and does not stop the others.
 */
export async function downloadHistory(o: DownloadOptions): Promise<DownloadResult> {
  const log = o.log ?? logger().child({ exchange: o.exchange, task: 'bar-download' });
  const now = o.now ?? clock().now();
  const from = toMs(o.from);
  if (Number.isNaN(from)) throw new RangeError(`from: not a date or instant: ${o.from}`);
  if (o.to !== undefined && Number.isNaN(toMs(o.to)))
    throw new RangeError(`to: not a date or instant: ${o.to}`);
  return summarise(
    await eachSymbol(o.symbols, o.concurrency ?? 2, (s) => downloadSymbol(o, s, from, now, log)),
  );
}

export interface RecentOptions extends Omit<DownloadOptions, 'from' | 'to'> {
  /** Bars fetched for a series with nothing stored yet. */
  initialBars?: number;
  /** Most bars one run catches up per series; a longer outage is caught up over several runs. */
  maxBars?: number;
}

/**
 * fetch-bars' incremental run, on the same code: for each symbol, from just after its newest stored bar
 * (or `initialBars` back when none is stored, at most `maxBars` back) to now. Coverage from earlier runs
 * still applies, so a quiet stretch is not asked for again.
 */
export async function downloadRecent(o: RecentOptions): Promise<DownloadResult> {
  const log = o.log ?? logger().child({ exchange: o.exchange, task: 'bar-download' });
  const now = o.now ?? clock().now();
  const step = TIMEFRAME_MS[o.timeframe];
  // Counted back from the start of the bar `now` falls in, so N bars back is exactly N complete bars.
  const current = Math.floor(now / step) * step;
  const floor = current - (o.maxBars ?? 10_000) * step;
  return summarise(
    await eachSymbol(o.symbols, o.concurrency ?? 4, async (symbol) => {
      const newest = await latestBarTime(o.sql, symbol, o.timeframe);
      const from = Math.max(newest === null ? current - (o.initialBars ?? 500) * step : newest + step, floor);
      // No bar after the newest stored one has completed yet: nothing to ask the venue.
      if (from + step > now) {
        return {
          symbol,
          written: 0,
          rejected: 0,
          pages: 0,
          resumedFrom: null,
          upToDate: true,
          through: null,
        };
      }
      return downloadSymbol({ ...o, to: undefined }, symbol, from, now, log);
    }),
  );
}
