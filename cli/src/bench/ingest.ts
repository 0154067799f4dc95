/**
 * Bar ingest: bars per second written by upsertBars (COPY FROM STDIN through postgres.js, from column
 * series as history downloads produce them), beside `psql \copy` of the very same rows from a file, in
 * the same run. Each side writes into a fresh, migrated database (same `bars` table: primary key and
 * CHECK included), so neither pays for the other's rows. Rounds alternate the two; the best round of each
 * counts (the machine is shared, the best is the least disturbed). Goal: ingest ≥ 0.7 × psql.
 *
 * Measured for upsertBars: from the call until the transaction commits, one call per symbol (250k bars
 * each), including line building and the overlap check. For psql: the whole `psql -c "\copy ..."`
 * process (start, connect, read the file, COPY, commit).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BarSeries, emptySeries } from '@weaver/shared/bars';
import { type Sql, upsertBars } from '@weaver/shared/db';
import type { Benchmark } from '../commands/bench.ts';
import { freshDatabase } from './_db.ts';

const SYMBOLS = ['BENCHA', 'BENCHB', 'BENCHC', 'BENCHD'];
const START = Date.UTC(2020, 0, 1);

/** A deterministic random walk of 1-minute bars with consistent OHLC. */
export function benchSeries(symbol: string, n: number, seed: number): BarSeries {
  const s = emptySeries(symbol, '1Min', n);
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  let price = 100;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = Math.max(1, open * (1 + (rand() - 0.5) * 0.004));
    s.time[i] = START + i * 60_000;
    s.open[i] = Math.round(open * 100) / 100;
    s.close[i] = Math.round(close * 100) / 100;
    s.high[i] = Math.round(Math.max(open, close) * (1 + rand() * 0.001) * 100) / 100 + 0.01;
    s.low[i] = Math.round(Math.min(open, close) * (1 - rand() * 0.001) * 100) / 100 - 0.01;
    s.volume[i] = Math.floor(rand() * 10_000);
    price = close;
  }
  return s;
}

async function writeTsv(file: string, series: BarSeries[]): Promise<void> {
  const out = createWriteStream(file);
  for (const s of series) {
    let buf = '';
    for (let i = 0; i < s.length; i++) {
      buf += `${s.symbol}\t${s.timeframe}\t${new Date(s.time[i]).toISOString()}\t${s.open[i]}\t${s.high[i]}\t${s.low[i]}\t${s.close[i]}\t${s.volume[i]}\n`;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
        buf = '';
      }
    }
    out.write(buf);
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

async function countBars(sql: Sql): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM bars`;
  return n;
}

const ingest: Benchmark = {
  name: 'ingest',
  async run({ quick, log }) {
    const base = process.env.DATABASE_URL;
    if (!base) throw new Error('DATABASE_URL is not set');
    const perSymbol = quick ? 50_000 : 250_000;
    const rounds = quick ? 1 : 3;
    const total = perSymbol * SYMBOLS.length;
    const series = SYMBOLS.map((s, i) => benchSeries(s, perSymbol, 7 + i));
    const dir = mkdtempSync(join(tmpdir(), 'weaver-ingest-'));
    const file = join(dir, 'bars.tsv');
    await writeTsv(file, series);
    log(
      `${total.toLocaleString('en-US')} bars (${SYMBOLS.length} symbols × ${perSymbol.toLocaleString('en-US')}), ${rounds} round(s)`,
    );

    let bestOurs = 0;
    let bestPsql = 0;
    try {
      for (let round = 1; round <= rounds; round++) {
        const ours = await freshDatabase(base, 'ingest');
        try {
          const t0 = performance.now();
          for (const s of series) await upsertBars(ours.sql, s);
          const seconds = (performance.now() - t0) / 1000;
          const n = await countBars(ours.sql);
          if (n !== total) throw new Error(`upsertBars wrote ${n} bars, expected ${total}`);
          bestOurs = Math.max(bestOurs, total / seconds);
          log(`round ${round}: upsertBars ${Math.round(total / seconds).toLocaleString('en-US')} bars/s`);
        } finally {
          await ours.drop();
        }

        const theirs = await freshDatabase(base, 'psql');
        try {
          const t0 = performance.now();
          const r = spawnSync(
            'psql',
            [
              theirs.url,
              '-X',
              '-q',
              '-v',
              'ON_ERROR_STOP=1',
              '-c',
              `\\copy bars (symbol, timeframe, ts, open, high, low, close, volume) FROM '${file}'`,
            ],
            { encoding: 'utf8' },
          );
          const seconds = (performance.now() - t0) / 1000;
          if (r.error)
            throw new Error(`psql could not run: ${r.error.message} (install the postgresql-client package)`);
          if (r.status !== 0) throw new Error(`psql \\copy failed: ${r.stderr}`);
          const n = await countBars(theirs.sql);
          if (n !== total) throw new Error(`psql wrote ${n} bars, expected ${total}`);
          bestPsql = Math.max(bestPsql, total / seconds);
          log(`round ${round}: psql \\copy ${Math.round(total / seconds).toLocaleString('en-US')} bars/s`);
        } finally {
          await theirs.drop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      ingest_bars_per_s: Math.round(bestOurs),
      psql_copy_bars_per_s: Math.round(bestPsql),
      ingest_vs_psql_ratio: Math.round((bestOurs / bestPsql) * 1000) / 1000,
    };
  },
};

export default ingest;
