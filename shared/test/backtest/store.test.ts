/**
 * Backtests stored in real Postgres: the service validates, runs, stores and announces; the repository
 * lists (keyset), fetches, compares and deletes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBarsCsv } from '../../src/backtest/csv.ts';
import { runStoredBacktest } from '../../src/backtest/service.ts';
import {
  compareBacktests,
  deleteBacktest,
  getBacktest,
  getBacktestSeries,
  getBacktestTrades,
  listBacktests,
  upsertBars,
} from '../../src/db/index.ts';
import {
  BacktestDetail,
  BacktestMetrics,
  BacktestSeries,
  type EventEnvelope,
} from '../../src/schemas/index.ts';
import { createTestNatsBus, natsUrl, useTestDatabase } from '../../src/testing/index.ts';
import { hasMarketData, marketDataDir, missingDataMessage } from '../helpers/market-data.ts';

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('stored backtests', () => {
  const tdb = useTestDatabase();
  beforeAll(async () => {
    for (const [file, symbol] of [
      ['nvda-1999-2014.txt', 'NVDA'],
      ['orcl-1995-2014.txt', 'ORCL'],
    ]) {
      const csv = parseBarsCsv(readFileSync(join(marketDataDir, file), 'utf8'), { symbol });
      await upsertBars(tdb.sql, csv.series[0]);
    }
  });
  const ctx = () => ({ sql: tdb.sql });
  const sma = {
    strategy: 'sma-crossover',
    params: { fast: 10, slow: 30 },
    sizing: { type: 'fixed_qty', qty: 100 },
  };

  it('stores config, metrics, every trade and the curves', async () => {
    const r = await runStoredBacktest(ctx(), { ...sma, symbols: ['NVDA'] });
    const detail = await getBacktest(tdb.sql, r.id);
    expect(BacktestDetail.parse(detail)).toEqual(detail);
    expect(detail?.status).toBe('completed');
    expect(detail?.config.params).toEqual({ fast: 10, slow: 30 });
    expect(BacktestMetrics.parse(detail?.metrics)).toEqual(detail?.metrics);
    expect(detail?.metrics?.endEquity).toBeCloseTo(103370.8751, 6);
    const page1 = await getBacktestTrades(tdb.sql, r.id, { limit: 50 });
    const page2 = await getBacktestTrades(tdb.sql, r.id, { afterSeq: page1.nextSeq ?? 0, limit: 50 });
    expect(page1.items).toHaveLength(50);
    expect(page2.items).toHaveLength(23);
    expect(page2.nextSeq).toBeNull();
    expect(page1.items[0]).toMatchObject({
      seq: 1,
      entryTime: '1999-05-24T00:00:00.000Z',
      entryPrice: 1.427083,
      exitReason: 'signal',
    });
    const series = await getBacktestSeries(tdb.sql, r.id);
    expect(BacktestSeries.parse(series)).toEqual(series);
    expect(series?.times).toHaveLength(4012);
    expect(series?.times[0]).toBe(Date.parse('1999-01-22T00:00:00Z'));
    expect(series?.equity.at(-1)).toBeCloseTo(103370.8751, 6);
    expect(series?.returns.monthly.length).toBeGreaterThan(180);
    expect(series?.sampled).toBe(false);
  });

  it('warms the strategy up on the bars before `from`', async () => {
    const r = await runStoredBacktest(ctx(), {
      ...sma,
      symbols: ['NVDA'],
      from: '2010-01-01',
      to: '2014-12-31',
    });
    const series = await getBacktestSeries(tdb.sql, r.id);
    expect(new Date(series?.times[0] ?? 0).toISOString()).toBe('2010-01-04T00:00:00.000Z');
    // The same trades as the full run inside the window: the averages were ready on the first bar.
    const full = await runStoredBacktest(ctx(), { ...sma, symbols: ['NVDA'] });
    const inWindow = full.outcome.trades.filter(
      (t) => t.entryTime >= '2010-01-04' && t.exitTime !== null && t.exitTime <= '2014-12-31',
    );
    const window = r.outcome.trades.filter((t) => t.exitTime !== null);
    expect(window.map((t) => [t.entryTime, t.exitTime])).toEqual(
      inWindow.map((t) => [t.entryTime, t.exitTime]),
    );
  });

  it('lists newest first with a keyset cursor, filters, compares and deletes', async () => {
    const a = await runStoredBacktest(ctx(), { ...sma, symbols: ['ORCL'], name: 'a' });
    const b = await runStoredBacktest(ctx(), { strategy: 'macd', symbols: ['ORCL'], name: 'b' });
    const c = await runStoredBacktest(ctx(), {
      strategy: 'buy-and-hold',
      symbols: ['NVDA', 'ORCL'],
      name: 'c',
    });
    const first = await listBacktests(tdb.sql, { limit: 2 });
    expect(first.items.map((x) => x.id)).toEqual([c.id, b.id]);
    const second = await listBacktests(tdb.sql, { limit: 2, cursor: first.nextCursor });
    expect(second.items[0].id).toBe(a.id);
    expect((await listBacktests(tdb.sql, { strategy: 'macd' })).items.map((x) => x.id)).toEqual([b.id]);
    const cmp = await compareBacktests(tdb.sql, [c.id, a.id, 999_999]);
    expect(cmp.map((x) => x.name)).toEqual(['c', 'a']);
    expect(cmp[0].symbols).toEqual(['NVDA', 'ORCL']);
    expect(cmp[0].metrics?.marketChange).toBeGreaterThan(0);
    expect(await deleteBacktest(tdb.sql, a.id)).toBe(true);
    expect(await deleteBacktest(tdb.sql, a.id)).toBe(false);
    expect(await getBacktest(tdb.sql, a.id)).toBeNull();
    expect(await getBacktestSeries(tdb.sql, a.id)).toBeNull();
    const [t] = await tdb.sql`SELECT count(*)::int AS n FROM backtest_trades WHERE backtest_id = ${a.id}`;
    expect(t.n).toBe(0);
  });

  describe.skipIf(!natsUrl())('announcements on real NATS', () => {
    let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
    beforeAll(async () => {
      nats = await createTestNatsBus();
    });
    afterAll(async () => {
      await nats?.drop();
    });
    it('publishes backtests.completed with the id and records it in the audit log', async () => {
      const seen: EventEnvelope[] = [];
      const sub = nats.bus.subscribe('backtests.completed', (e) => {
        seen.push(e);
      });
      const r = await runStoredBacktest(
        { sql: tdb.sql, bus: async () => nats.bus, correlationId: 'corr-bt' },
        { ...sma, symbols: ['NVDA'] },
      );
      await expect.poll(() => seen.length).toBe(1);
      sub.unsubscribe();
      expect(seen[0]).toMatchObject({
        type: 'backtests.completed',
        correlationId: 'corr-bt',
        payload: { backtestId: r.id, status: 'completed' },
      });
      const [audit] =
        await tdb.sql`SELECT type FROM events WHERE event_id = ${`backtests.completed:${r.id}`}`;
      expect(audit.type).toBe('backtests.completed');
    });
  });
});
