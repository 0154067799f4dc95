/**
 * The backtest commands as a person types them, in child processes against real PostgreSQL: the
 * reference sequence on a brand-new (empty, unmigrated) database, bad CSV lines reported and nothing
 * imported, clear errors naming the flag, and a sweep.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@weaver/shared/db';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hasMarketData, missingDataMessage, referenceDir } from '../../shared/test/helpers/market-data.ts';
import { REPO_ROOT } from './helpers.ts';

const base = inject('databaseUrl');
const name = `weaver_t_${inject('dbRunId')}_cli_${process.pid}`;
const url = (() => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
})();

function weaver(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'cli', 'bin', 'weaver.js'), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const count = async (): Promise<number> => {
  const sql = connect(url, { max: 1 });
  try {
    const [r] = await sql`SELECT count(*)::int AS n FROM bars`;
    return r.n;
  } finally {
    await sql.end();
  }
};

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('weaver import-bars, backtest and sweep', () => {
  let dir: string;
  beforeAll(async () => {
    // A brand-new database: no tables at all; the commands migrate it themselves.
    const admin = connect(base, { max: 1 });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    dir = mkdtempSync(join(tmpdir(), 'weaver-cli-bt-'));
  });
  afterAll(async () => {
    const admin = connect(base, { max: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the reference sequence: import NVDA, then backtest SMA 10/30 as JSON, matching backtrader', async () => {
    const imp = await weaver([
      'import-bars',
      '../shared/data/nvda-1999-2014.txt',
      '--symbol',
      'NVDA',
      '--timeframe',
      '1Day',
    ]);
    expect(imp.stderr).not.toMatch(/error/i);
    expect(imp.status).toBe(0);
    expect(imp.stdout).toMatch(/imported 4012 bars \(yahoo format; ignored Adj Close\)/);
    const bt = await weaver([
      'backtest',
      '--strategy',
      'sma-crossover',
      '--symbols',
      'NVDA',
      '--timeframe',
      '1Day',
      '--param',
      'fast=10',
      '--param',
      'slow=30',
      '--qty',
      '100',
      '--cash',
      '100000',
      '--commission',
      '0',
      '--json',
    ]);
    expect(bt.status).toBe(0);
    const out = JSON.parse(bt.stdout);
    const ref = JSON.parse(readFileSync(join(referenceDir, 'backtrader_sma_10_30_nvda.json'), 'utf8'));
    expect(Math.abs(out.finalValue - ref.final_value)).toBeLessThanOrEqual(1e-6);
    expect(out.trades).toHaveLength(ref.trades.length);
    ref.trades.forEach(
      (
        t: {
          entry: string;
          exit: string;
          entry_price: number;
          exit_price: number;
          pnl: number;
          size: number;
        },
        i: number,
      ) => {
        const o = out.trades[i];
        expect([o.entry, o.exit, o.size]).toEqual([t.entry, t.exit, t.size]);
        expect(Math.abs(o.entryPrice - t.entry_price)).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(o.exitPrice - t.exit_price)).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(o.pnl - t.pnl)).toBeLessThanOrEqual(1e-6);
      },
    );
    expect(out.metrics.trades).toBe(73);
    // Without --json: the readable table.
    const table = await weaver([
      'backtest',
      '--strategy',
      'sma-crossover',
      '--symbols',
      'NVDA',
      '--qty',
      '100',
    ]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/start → end equity\s+100,000.00 → 103,370.88/);
    expect(table.stdout).toMatch(/last 20 of 73 trades/);
  });

  it('reports every bad CSV line by number and imports nothing', async () => {
    const before = await count();
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,oops,10\n2020-01-06,1,0.8,0.5,0.9,10\n',
    );
    const r = await weaver(['import-bars', file, '--symbol', 'BAD']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/2 bad line\(s\); nothing was imported/);
    expect(r.stderr).toMatch(/line 3: close "oops" is not a number/);
    expect(r.stderr).toMatch(/line 4: high 0.8 is below open, close or low/);
    expect(await count()).toBe(before);
  });

  it('imports the Date,Time minute file as 5-minute bars', async () => {
    const r = await weaver(['import-bars', '../shared/data/2006-min-005.txt', '--symbol', 'IDX', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'date-time', timeframe: '5Min', imported: 2142 });
  });

  it.each([
    [['--strategy', 'nope', '--symbols', 'NVDA'], 2, /--strategy: unknown strategy "nope"/],
    [
      ['--strategy', 'sma-crossover', '--symbols', 'NVDA', '--param', 'fast=50'],
      2,
      /--param fast: must be smaller than slow/,
    ],
    [['--strategy', 'sma-crossover', '--symbols', 'AAPL'], 3, /--symbols \(0\): has no 1Day bars/],
    [['--strategy', 'sma-crossover', '--symbols', 'NVDA', '--cash', '-1'], 2, /--cash: /],
    [['--strategy', 'sma-crossover', '--symbols', 'NVDA', '--bogus', '1'], 2, /unknown option --bogus/],
  ])('backtest %j exits %i naming the flag', async (args, status, message) => {
    const r = await weaver(['backtest', ...args]);
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message);
  });

  it('sweeps a grid on worker threads and prints the ranked runs', async () => {
    const r = await weaver([
      'sweep',
      '--strategy',
      'sma-crossover',
      '--symbols',
      'NVDA',
      '--grid',
      'fast=5,10',
      '--grid',
      'slow=30:50:20',
      '--qty',
      '100',
      '--objective',
      'totalReturn',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sweep).toMatchObject({
      status: 'completed',
      total: 4,
      done: 4,
      failed: 0,
      objective: 'totalReturn',
    });
    expect(out.top).toHaveLength(4);
    const returns = out.top.map((b: { totalReturn: number }) => b.totalReturn);
    expect(returns).toEqual([...returns].sort((a: number, b: number) => b - a));
    expect(
      out.top.find(
        (b: { params: { fast: number; slow: number } }) => b.params.fast === 10 && b.params.slow === 30,
      ).endEquity,
    ).toBeCloseTo(103370.8751, 6);
  });
});
