/**
 * Real market data for tests, read from ../shared/data relative to the repository root (outside the
 * repo; CI has it). Suites that need it use `describe.skipIf(!hasMarketData)` and say which folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const marketDataDir = resolve(repoRoot, '..', 'shared', 'data');
export const referenceDir = resolve(repoRoot, '..', 'shared', 'reference');
export const hasMarketData = existsSync(join(marketDataDir, 'nvda-1999-2014.txt'));
export const missingDataMessage = `market data folder ${marketDataDir} is absent: skipping`;

export interface Ohlcv {
  date: string[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
}

/** The daily files (Date,Open,High,Low,Close,…) and the minute file (Date,Time,Open,…), read plainly. */
export function readOhlcv(file: string): Ohlcv {
  const [head, ...lines] = readFileSync(join(marketDataDir, file), 'utf8').trim().split(/\r?\n/);
  const cols = head.split(',');
  const at = (name: string) => cols.indexOf(name);
  const out: Ohlcv = { date: [], open: [], high: [], low: [], close: [], volume: [] };
  for (const line of lines) {
    const f = line.split(',');
    out.date.push(at('Time') >= 0 ? `${f[at('Date')]} ${f[at('Time')]}` : f[at('Date')]);
    out.open.push(Number(f[at('Open')]));
    out.high.push(Number(f[at('High')]));
    out.low.push(Number(f[at('Low')]));
    out.close.push(Number(f[at('Close')]));
    out.volume.push(Number(f[at('Volume')]));
  }
  return out;
}

export const DAILY_FILES = [
  'nvda-1999-2014.txt',
  'orcl-1995-2014.txt',
  'yhoo-1996-2014.txt',
  '2006-day-001.txt',
];
export const ALL_FILES = [...DAILY_FILES, '2006-min-005.txt'];
