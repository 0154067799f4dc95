/**
 * `weaver import-bars FILE --symbol NVDA`: bars from a CSV file (Yahoo, Alpaca, Date+Time or generic
 * OHLCV columns, detected) into Postgres. The whole file is validated first and every bad line reported
 * with its number; only a clean file is written, in one COPY transaction: never half an import.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseBarsCsv } from '@weaver/shared/backtest';
import { upsertBars } from '@weaver/shared/db';
import { type Bar, TIMEFRAMES, Timeframe } from '@weaver/shared/schemas';
import { Presets, SingleBar } from 'cli-progress';
import { openMigrated } from '../backtest/database.ts';
import { readFlags, UsageError } from '../backtest/flags.ts';
import { table } from '../backtest/output.ts';
import type { Command } from '../main.ts';

const usage = `usage: weaver import-bars FILE [--symbol NVDA] [--timeframe 1Day] [--tz ZONE] [--json]

Imports OHLCV bars from a CSV file into Postgres (DATABASE_URL, or the embedded database of
\`weaver start\`; migrated first). Columns are recognised from the header:
  Yahoo    Date,Open,High,Low,Close,Adj Close,Volume   (Adj Close is ignored)
  Alpaca   t,o,h,l,c,v[,n,vw] or timestamp,open,...,trade_count,vwap (RFC 3339 or epoch times)
  split    Date,Time,Open,High,Low,Close,Volume
  generic  date|datetime|timestamp|time, open, high, low, close[, volume][, symbol]
  --symbol S      the symbol, unless the file has a symbol column
  --timeframe TF  ${TIMEFRAMES.join(', ')} (inferred from the times when absent)
  --tz ZONE       IANA zone of times written without an offset (default UTC), e.g. America/New_York
  --state-dir DIR the local runner's state folder, for the embedded database (default .weaver)
  --json          print the result as JSON
  --no-progress   no progress bar
Bars already stored (same symbol, timeframe, time) are replaced. Any bad line stops the import; all of
them are listed with their line numbers, and nothing is written.`;

function progress(enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: ' {task} [{bar}] {percentage}% | {value}/{total} lines',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done: number, total: number, task: string) {
      if (!started) {
        bar.start(total, 0, { task });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { task });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

const importBars: Command = {
  name: 'import-bars',
  summary: 'import bars from a CSV file (Yahoo, Alpaca, generic); all or nothing',
  usage,
  async run(argv) {
    let flags: ReturnType<typeof readFlags>;
    try {
      flags = readFlags(argv, {
        valued: ['symbol', 'timeframe', 'tz', 'state-dir'],
        switches: ['json', 'no-progress'],
        positional: 1,
      });
      if (flags.positional.length !== 1) throw new UsageError('give the CSV file to import');
      if (flags.values.timeframe !== undefined && !Timeframe.safeParse(flags.values.timeframe).success) {
        throw new UsageError(`--timeframe must be one of ${TIMEFRAMES.join(', ')}`);
      }
      if (flags.values.tz) {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: flags.values.tz });
        } catch {
          throw new UsageError(`--tz "${flags.values.tz}" is not an IANA time zone`);
        }
      }
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`weaver import-bars: ${e.message}\n\n${usage}\n`);
        return 2;
      }
      throw e;
    }
    const file = resolve(flags.positional[0]);
    const json = flags.switches.has('json');
    let text: string;
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      text = readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(`weaver import-bars: cannot read ${file}: ${(e as Error).message}\n`);
      return 1;
    }
    const started = performance.now();
    const bar = progress(!flags.switches.has('no-progress') && !json);
    const parsed = parseBarsCsv(text, {
      symbol: flags.values.symbol,
      timeframe: flags.values.timeframe as Timeframe | undefined,
      timezone: flags.values.tz,
      onProgress: (done, total) => bar.update(done, total, 'validating'),
    });
    bar.stop();
    if (parsed.problems.length > 0) {
      const shown = parsed.problems.slice(0, 20).map((p) => `  line ${p.line}: ${p.message}`);
      const more = parsed.problems.length > 20 ? [`  … and ${parsed.problems.length - 20} more`] : [];
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ file, imported: 0, problems: parsed.problems }, null, 2)}\n`,
        );
      }
      process.stderr.write(
        `weaver import-bars: ${file} has ${parsed.problems.length} bad line(s); nothing was imported:\n${[...shown, ...more].join('\n')}\n`,
      );
      return 1;
    }
    let db: Awaited<ReturnType<typeof openMigrated>>;
    try {
      db = await openMigrated(flags.values['state-dir']);
    } catch (e) {
      process.stderr.write(`weaver import-bars: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      const total = parsed.series.reduce((n, s) => n + s.length, 0);
      if (!json) process.stderr.write(`writing ${total} bars…\n`);
      // One series: its columns go straight to COPY; several symbols: one batch, one transaction.
      const batch: Bar[] | (typeof parsed.series)[0] =
        parsed.series.length === 1
          ? parsed.series[0]
          : parsed.series.flatMap((s) =>
              Array.from({ length: s.length }, (_, i) => ({
                symbol: s.symbol,
                timeframe: s.timeframe,
                time: new Date(s.time[i]).toISOString(),
                open: s.open[i],
                high: s.high[i],
                low: s.low[i],
                close: s.close[i],
                volume: s.volume[i],
              })),
            );
      const written = await upsertBars(db.sql, batch);
      const ms = Math.round(performance.now() - started);
      const result = {
        file,
        format: parsed.format,
        timeframe: parsed.timeframe,
        imported: written,
        ignoredColumns: parsed.ignored,
        symbols: parsed.series.map((s) => ({
          symbol: s.symbol,
          bars: s.length,
          first: new Date(s.time[0]).toISOString(),
          last: new Date(s.time[s.length - 1]).toISOString(),
        })),
        ms,
      };
      if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        process.stdout.write(
          `${table(
            ['symbol', 'timeframe', 'bars', 'first', 'last'],
            result.symbols.map((s) => [s.symbol, parsed.timeframe ?? '', s.bars, s.first, s.last]),
          )}\n\nimported ${written} bars (${parsed.format} format${parsed.ignored.length ? `; ignored ${parsed.ignored.join(', ')}` : ''}) in ${ms} ms\n`,
        );
      }
      return 0;
    } catch (e) {
      process.stderr.write(`weaver import-bars: nothing was imported: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await db.close();
    }
  },
};

export default importBars;
