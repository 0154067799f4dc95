/**
 * Bars from CSV text: Yahoo (Date,Open,High,Low,Close,Adj Close,Volume), Alpaca (timestamp/t, o, h, l, c,
 * v, …), separate Date and Time columns (Date,Time,Open,…) and generic OHLCV headers, detected from the
 * header line. Every bad line is reported with its line number; the caller imports only a clean file,
 * so nothing is ever half-imported. Pure: text in, series out.
 */
import { type BarSeries, emptySeries } from '../bars/index.ts';
import { TradingSymbol as SymbolSchema, TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from '../schemas/index.ts';

export type CsvFormat = 'yahoo' | 'alpaca' | 'date-time' | 'generic';

export interface CsvProblem {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  message: string;
}

export interface CsvOptions {
  /** Symbol for files without a symbol column. */
  symbol?: string;
  /** Bar size; inferred from the times when absent. */
  timeframe?: Timeframe;
  /** IANA zone of times written without an offset (default UTC). */
  timezone?: string;
  /** Called every 100,000 lines with the lines read so far and the total (progress bars). */
  onProgress?: (done: number, total: number) => void;
}

export interface ParsedCsv {
  format: CsvFormat;
  timeframe: Timeframe | null;
  /** One series per symbol, ascending by time. */
  series: BarSeries[];
  rows: number;
  problems: CsvProblem[];
  /** Columns recognised and ignored (Adj Close, trade_count, vwap, …). */
  ignored: string[];
}

const ALIASES: Record<string, string[]> = {
  date: ['date', 'day'],
  time: ['time'],
  datetime: ['datetime', 'timestamp', 't', 'date_time', 'time_stamp'],
  open: ['open', 'o'],
  high: ['high', 'h'],
  low: ['low', 'l'],
  close: ['close', 'c'],
  volume: ['volume', 'v', 'vol'],
  symbol: ['symbol', 'ticker', 's'],
};

const clean = (h: string): string => h.trim().replace(/^"|"$/g, '').trim().toLowerCase();

function findColumns(header: string[]): { cols: Record<string, number>; ignored: string[] } {
  const cols: Record<string, number> = {};
  const ignored: string[] = [];
  header.forEach((raw, i) => {
    const h = clean(raw);
    const role = Object.keys(ALIASES).find((k) => ALIASES[k].includes(h));
    if (role && cols[role] === undefined) cols[role] = i;
    else if (h) ignored.push(raw.trim());
  });
  // A lone "time" column holds whole instants.
  if (cols.time !== undefined && cols.date === undefined && cols.datetime === undefined) {
    cols.datetime = cols.time;
    delete cols.time;
  }
  if (cols.date !== undefined && cols.time === undefined && cols.datetime === undefined) {
    cols.datetime = cols.date;
    delete cols.date;
  }
  return { cols, ignored };
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Milliseconds the zone's wall clock is ahead of UTC at instant t. */
function zoneOffset(t: number, zone: string): number {
  let f = offsetFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
}

/** The instant a wall-clock time in `zone` denotes. */
function wallToUtc(wall: number, zone: string): number {
  if (zone === 'UTC') return wall;
  const first = wall - zoneOffset(wall, zone);
  const second = wall - zoneOffset(first, zone);
  return second;
}

const DATE = /^(\d{4})-?(\d{2})-?(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;
const CLOCK = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/** Parses one time cell (and an optional clock cell); NaN when it is not a time. */
export function parseTime(
  cell: string,
  clock: string | undefined,
  zone: string,
): { t: number; dateOnly: boolean } {
  const v = cell.trim().replace(/^"|"$/g, '');
  if (clock !== undefined) {
    const d = DATE.exec(v);
    const c = CLOCK.exec(clock.trim());
    if (!d || !c) return { t: Number.NaN, dateOnly: false };
    const wall = Date.UTC(+d[1], +d[2] - 1, +d[3], +c[1], +c[2], c[3] ? +c[3] : 0);
    return { t: validDate(wall, +d[1], +d[2], +d[3]) ? wallToUtc(wall, zone) : Number.NaN, dateOnly: false };
  }
  if (/^\d{9,13}(\.\d+)?$/.test(v)) {
    const n = Number(v);
    // Seconds until 2286 have at most 10 digits; milliseconds have 12 or 13.
    return { t: v.split('.')[0].length <= 10 ? n * 1000 : n, dateOnly: false };
  }
  const d = DATE.exec(v);
  if (d) {
    const wall = Date.UTC(+d[1], +d[2] - 1, +d[3]);
    return { t: validDate(wall, +d[1], +d[2], +d[3]) ? wallToUtc(wall, zone) : Number.NaN, dateOnly: true };
  }
  if (OFFSET.test(v)) return { t: Date.parse(v), dateOnly: false };
  const dt = DATE_TIME.exec(v);
  if (dt) {
    const wall = Date.UTC(
      +dt[1],
      +dt[2] - 1,
      +dt[3],
      +dt[4],
      +dt[5],
      dt[6] ? +dt[6] : 0,
      dt[7] ? +dt[7].padEnd(3, '0') : 0,
    );
    return {
      t: validDate(wall, +dt[1], +dt[2], +dt[3]) ? wallToUtc(wall, zone) : Number.NaN,
      dateOnly: false,
    };
  }
  return { t: Number.NaN, dateOnly: false };
}

function validDate(wall: number, y: number, m: number, d: number): boolean {
  const x = new Date(wall);
  return x.getUTCFullYear() === y && x.getUTCMonth() === m - 1 && x.getUTCDate() === d;
}

function detectFormat(cols: Record<string, number>, header: string[]): CsvFormat {
  const names = header.map(clean);
  if (names.includes('adj close') || names.includes('adj_close')) return 'yahoo';
  if (names.includes('t') || names.includes('trade_count') || names.includes('vwap') || names.includes('n'))
    return 'alpaca';
  if (cols.date !== undefined && cols.time !== undefined) return 'date-time';
  return 'generic';
}

/** The timeframe whose length is the most common gap between consecutive bars (within a session). */
function inferTimeframe(series: BarSeries[], dateOnly: boolean): Timeframe | null {
  if (dateOnly) return '1Day';
  const counts = new Map<number, number>();
  for (const s of series) {
    for (let i = 1; i < s.length; i++) {
      const gap = s.time[i] - s.time[i - 1];
      counts.set(gap, (counts.get(gap) ?? 0) + 1);
    }
  }
  let best = 0;
  let seen = 0;
  for (const [gap, n] of counts) if (n > seen) [best, seen] = [gap, n];
  const match = TIMEFRAMES.find((tf) => TIMEFRAME_MS[tf] === best);
  if (match) return match;
  // Daily bars skip weekends: a most common gap of one day is daily even if some are three.
  return null;
}

const MAX_PROBLEMS = 1000;

export function parseBarsCsv(text: string, opts: CsvOptions = {}): ParsedCsv {
  const zone = opts.timezone ?? 'UTC';
  const problems: CsvProblem[] = [];
  const report = (line: number, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ line, message });
  };
  const lines = text.split(/\r?\n/);
  let headerAt = 0;
  while (headerAt < lines.length && lines[headerAt].trim() === '') headerAt++;
  const header = (lines[headerAt] ?? '').replace(/^\uFEFF/, '').split(',');
  const { cols, ignored } = findColumns(header);
  const format = detectFormat(cols, header);
  const missing = ['datetime', 'open', 'high', 'low', 'close'].filter(
    (k) => cols[k] === undefined && !(k === 'datetime' && cols.date !== undefined),
  );
  if (missing.length) {
    report(
      headerAt + 1,
      `header must name a time and open, high, low, close columns (missing: ${missing.map((m) => (m === 'datetime' ? 'date/time/timestamp' : m)).join(', ')})`,
    );
    return { format, timeframe: null, series: [], rows: 0, problems, ignored };
  }
  let fixedSymbol: string | null = null;
  if (cols.symbol === undefined) {
    const s = SymbolSchema.safeParse(opts.symbol ?? '');
    if (!s.success) {
      report(headerAt + 1, 'the file has no symbol column: give the symbol (--symbol)');
      return { format, timeframe: null, series: [], rows: 0, problems, ignored };
    }
    fixedSymbol = s.data;
  }
  const timeCol = cols.datetime ?? cols.date;
  const clockCol = cols.time;
  const width = header.length;
  // Columns per symbol, grown as rows arrive; sorted and checked for repeats at the end.
  const acc = new Map<
    string,
    { t: number[]; o: number[]; h: number[]; l: number[]; c: number[]; v: number[]; line: number[] }
  >();
  let rows = 0;
  let allDates = true;
  for (let i = headerAt + 1; i < lines.length; i++) {
    if (opts.onProgress && i % 100_000 === 0) opts.onProgress(i, lines.length);
    const raw = lines[i];
    if (raw.trim() === '') continue;
    rows++;
    const line = i + 1;
    const f = raw.split(',');
    if (f.length !== width) {
      report(line, `has ${f.length} fields; the header has ${width}`);
      continue;
    }
    const { t, dateOnly } = parseTime(f[timeCol], clockCol === undefined ? undefined : f[clockCol], zone);
    if (Number.isNaN(t)) {
      report(
        line,
        `time "${f[timeCol].trim()}${clockCol === undefined ? '' : ` ${f[clockCol].trim()}`}" is not a date or instant`,
      );
      continue;
    }
    if (!dateOnly) allDates = false;
    const num = (k: string): number => {
      const cell = f[cols[k]].trim().replace(/^"|"$/g, '');
      return cell === '' ? Number.NaN : Number(cell);
    };
    const o = num('open');
    const h = num('high');
    const l = num('low');
    const c = num('close');
    const v = cols.volume === undefined ? 0 : num('volume');
    const bad = (['open', 'high', 'low', 'close'] as const).find((_, j) => !Number.isFinite([o, h, l, c][j]));
    if (bad) {
      report(line, `${bad} "${f[cols[bad]].trim()}" is not a number`);
      continue;
    }
    if (!(Number.isFinite(v) && v >= 0)) {
      report(line, `volume "${f[cols.volume].trim()}" must be a number >= 0`);
      continue;
    }
    if (!(l > 0)) {
      report(line, `low ${l} must be greater than 0`);
      continue;
    }
    if (h < Math.max(o, c, l)) {
      report(line, `high ${h} is below open, close or low`);
      continue;
    }
    if (l > Math.min(o, c)) {
      report(line, `low ${l} is above open or close`);
      continue;
    }
    let symbol = fixedSymbol;
    if (symbol === null) {
      const s = SymbolSchema.safeParse(f[cols.symbol].trim().replace(/^"|"$/g, ''));
      if (!s.success) {
        report(line, `symbol "${f[cols.symbol].trim()}" is not a ticker`);
        continue;
      }
      symbol = s.data;
    }
    let a = acc.get(symbol);
    if (!a) {
      a = { t: [], o: [], h: [], l: [], c: [], v: [], line: [] };
      acc.set(symbol, a);
    }
    a.t.push(t);
    a.o.push(o);
    a.h.push(h);
    a.l.push(l);
    a.c.push(c);
    a.v.push(v);
    a.line.push(line);
  }
  opts.onProgress?.(lines.length, lines.length);
  if (rows === 0) report(headerAt + 1, 'the file has a header but no bars');
  const series: BarSeries[] = [];
  for (const [symbol, a] of acc) {
    const order = a.t.map((_, k) => k).sort((x, y) => a.t[x] - a.t[y] || a.line[x] - a.line[y]);
    const s = emptySeries(symbol, opts.timeframe ?? '1Day', order.length);
    order.forEach((k, j) => {
      if (j > 0 && a.t[k] === a.t[order[j - 1]]) {
        report(
          a.line[k],
          `repeats the ${symbol} bar of line ${a.line[order[j - 1]]} (${new Date(a.t[k]).toISOString()})`,
        );
      }
      s.time[j] = a.t[k];
      s.open[j] = a.o[k];
      s.high[j] = a.h[k];
      s.low[j] = a.l[k];
      s.close[j] = a.c[k];
      s.volume[j] = a.v[k];
    });
    series.push(s);
  }
  problems.sort((x, y) => x.line - y.line);
  let timeframe: Timeframe | null = opts.timeframe ?? null;
  if (!timeframe && series.length) {
    timeframe = inferTimeframe(series, allDates);
    if (!timeframe)
      report(headerAt + 1, 'cannot tell the bar size from the times: give the timeframe (--timeframe)');
  }
  if (timeframe) for (const s of series) s.timeframe = timeframe;
  return { format, timeframe, series, rows, problems, ignored };
}
