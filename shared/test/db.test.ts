import { describe, expect, it } from 'vitest';
import { connect, latestBarTime, loadMigrations, loadSeries, migrate, upsertBars } from '../src/db/index.ts';
import type { Bar } from '../src/schemas/index.ts';
import { createTestDatabase, useTestDatabase } from '../src/testing/index.ts';

const bar = (i: number, close = 100 + i): Bar => ({
  symbol: 'ACME',
  timeframe: '1Min',
  time: new Date(Date.UTC(2024, 0, 2, 14, 30 + i)).toISOString(),
  open: close - 0.5,
  high: close + 1,
  low: close - 1,
  close,
  volume: 1000 + i,
});

describe('migrations', () => {
  it('apply from empty, once, and refuse an edited file', async () => {
    const tdb = await createTestDatabase();
    try {
      // the template is already migrated: nothing left to apply
      expect(await migrate(tdb.sql)).toEqual([]);
      await tdb.sql`DROP SCHEMA public CASCADE`;
      await tdb.sql`CREATE SCHEMA public`;
      const applied = await migrate(tdb.sql);
      expect(applied).toEqual(loadMigrations().map((m) => m.version));
      const tables = await tdb.sql<{ t: string }[]>`
        SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'`;
      const names = tables.map((r) => r.t);
      for (const t of [
        'bars',
        'strategies',
        'signals',
        'orders',
        'fills',
        'trades',
        'positions',
        'account_snapshots',
        'backtests',
        'function_runs',
        'events',
      ]) {
        expect(names).toContain(t);
      }
      await tdb.sql`UPDATE schema_migrations SET checksum = 'x' WHERE version = 1`;
      await expect(migrate(tdb.sql)).rejects.toThrow(/changed after it was applied/);
    } finally {
      await tdb.drop();
    }
  });
});

describe('bars', () => {
  const t = useTestDatabase();
  it('COPY-inserts new bars and reads them back as columns', async () => {
    const bars = Array.from({ length: 50 }, (_, i) => bar(i));
    expect(await upsertBars(t.sql, bars)).toBe(50);
    const s = await loadSeries(t.sql, { symbol: 'ACME', timeframe: '1Min' });
    expect(s.length).toBe(50);
    expect(s.close[49]).toBe(149);
    expect(s.time[0]).toBe(Date.parse(bars[0].time));
    expect(await latestBarTime(t.sql, 'ACME', '1Min')).toBe(Date.parse(bars[49].time));
    const last10 = await loadSeries(t.sql, { symbol: 'ACME', timeframe: '1Min', limit: 10 });
    expect(Array.from(last10.close)).toEqual(Array.from({ length: 10 }, (_, i) => 140 + i));
  });
  it('replaces overlapping bars (a revised last bar) without duplicating', async () => {
    const revised = [bar(49, 500), bar(50, 501)];
    expect(await upsertBars(t.sql, revised)).toBe(2);
    const [{ n }] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM bars WHERE symbol = 'ACME'`;
    expect(n).toBe(51);
    const [{ close }] = await t.sql<
      { close: number }[]
    >`SELECT close FROM bars WHERE ts = ${revised[0].time}`;
    expect(close).toBe(500);
  });
  it('leaves nothing behind when a batch fails', async () => {
    const bad = [bar(100), { ...bar(101), close: Number.NaN }];
    await expect(upsertBars(t.sql, bad as Bar[])).rejects.toThrow();
    const [{ n }] = await t.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM bars WHERE ts >= ${bar(100).time}`;
    expect(n).toBe(0);
  });
  it('returns numeric as canonical decimal strings', async () => {
    const other = connect(t.url, { max: 1 });
    const [row] = await other<{ v: string }[]>`SELECT 10.5000::numeric AS v`;
    await other.end();
    expect(row.v).toBe('10.5');
  });
});
