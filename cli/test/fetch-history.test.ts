/**
 * `npx weaver fetch-history` as a user runs it: a child process with the real SDK talking to the fake
 * Alpaca over HTTP and writing into a private Postgres database.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { useTestDatabase } from '@weaver/shared/testing';
import { FakeAlpaca } from '@weaver/shared/testing/fake-alpaca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.ts';

const db = useTestDatabase();
let fake: FakeAlpaca;

beforeAll(async () => {
  fake = await FakeAlpaca.start();
  // the venue has no MSFT data for one session
  fake.market.omitBars('MSFT', '2024-01-17T00:00:00Z', '2024-01-18T00:00:00Z');
});
afterAll(async () => {
  await fake.close();
});

/** Runs the CLI without blocking this process (the fake Alpaca lives here). */
function weaver(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'cli', 'bin', 'weaver.js'), ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: db.url,
        ...fake.env(),
        LOG_LEVEL: 'warn',
      },
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

describe('weaver fetch-history', () => {
  it('refuses bad arguments, naming the option', async () => {
    const r = await weaver([
      'fetch-history',
      '--symbols',
      'AAPL',
      '--timeframe',
      '7Min',
      '--from',
      '2024-01-01',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--timeframe: must be one of 1Min/);
    const noFrom = await weaver(['fetch-history', '--symbols', 'AAPL', '--timeframe', '1Min']);
    expect(noFrom.status).toBe(2);
    expect(noFrom.stderr).toMatch(/--from:/);
    const backwards = await weaver([
      'fetch-history',
      '--symbols',
      'AAPL',
      '--timeframe',
      '1m',
      '--from',
      '2024-02-01',
      '--to',
      '2024-01-01',
    ]);
    expect(backwards.stderr).toMatch(/--to: must be after --from/);
  });

  it('downloads into Postgres, reports gaps, and finds nothing to do the second time', async () => {
    const args = [
      'fetch-history',
      '--exchange',
      'alpaca',
      '--symbols',
      'AAPL,MSFT',
      '--timeframe',
      '15Min',
      '--from',
      '2024-01-08',
      '--to',
      '2024-01-19T23:59:59Z',
    ];
    const r = await weaver([...args, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // 9 sessions (15 January is a holiday) of 26 quarter hours; MSFT lacks the 17th
    expect(out.symbols.map((s: { symbol: string; written: number }) => [s.symbol, s.written])).toEqual([
      ['AAPL', 9 * 26],
      ['MSFT', 8 * 26],
    ]);
    expect(out.symbols[0].gaps).toEqual({ sessions: 9, missing: [] });
    expect(out.symbols[1].gaps.missing.map((m: { date: string }) => m.date)).toEqual(['2024-01-17']);
    const [{ n }] = await db.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM bars WHERE timeframe = '15Min'`;
    expect(n).toBe(17 * 26);

    const again = await weaver(args);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('AAPL: already downloaded; 9 sessions, none missing');
    expect(again.stdout).toContain('MSFT: already downloaded; 9 sessions, 1 without bars: 2024-01-17');
  });

  it('prints progress lines when not on a terminal and resumes a partly covered range', async () => {
    const r = await weaver([
      'fetch-history',
      '--symbols',
      'AAPL',
      '--timeframe',
      '15Min',
      '--from',
      '2024-01-08',
      '--to',
      '2024-01-26T23:59:59Z',
      '--page-size',
      '50',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /AAPL: 130 bars written; resumed from 2024-01-19T23:59:59.001Z; 14 sessions, none missing/,
    );
    expect(r.stderr).toMatch(/AAPL: 100%, 130 bars/);
  });
});
