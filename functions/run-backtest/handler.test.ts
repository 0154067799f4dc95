/**
 * run-backtest through the OpenFaaS handler contract against real Postgres: a config in, the stored
 * result's id and summary out; clear 4xx answers naming the field; a queued run claimed exactly once.
 * The bars are generated (a seeded series in the test's private database), so all of it runs anywhere;
 * the reference check against backtrader's result on ../shared/data runs where that folder exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBarsCsv } from '@weaver/shared/backtest';
import { insertBacktest, upsertBars } from '@weaver/shared/db';
import { invokeHandler } from '@weaver/shared/runtime';
import { useTestDatabase } from '@weaver/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasMarketData, marketDataDir, missingDataMessage } from '../../shared/test/helpers/market-data.ts';
import { GENERATED_SYMBOL, generatedBars, smaCrossoverReference } from './generated-bars.ts';
import handler from './handler.ts';

const call = (body: unknown) =>
  invokeHandler(handler, { body, headers: { 'content-type': 'application/json' } });

describe('run-backtest function', () => {
  const tdb = useTestDatabase();
  const G = GENERATED_SYMBOL;
  beforeAll(async () => {
    await upsertBars(tdb.sql, generatedBars());
  });
  const count = async () => Number((await tdb.sql`SELECT count(*)::int AS n FROM backtests`)[0].n);

  it('runs a config and answers the stored id, summary and metrics: the trades worked out by hand', async () => {
    const res = await call({
      strategy: 'sma-crossover',
      symbols: [G],
      params: { fast: 10, slow: 30 },
      sizing: { type: 'fixed_qty', qty: 100 },
      cash: 100000,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as {
      id: number;
      status: string;
      summary: { strategy: string; trades: number };
      metrics: { endEquity: number };
    };
    const expected = smaCrossoverReference(generatedBars(), 10, 30, 100, 100000);
    const closed = expected.trades.filter((t) => t.exitTime !== null).length;
    expect(closed).toBeGreaterThan(20);
    expect(body.status).toBe('completed');
    expect(body.summary).toMatchObject({
      id: body.id,
      strategy: 'sma-crossover',
      trades: closed,
      symbols: [G],
    });
    expect(body.metrics.endEquity).toBeCloseTo(expected.endEquity, 6);
    const rows = await tdb.sql<
      {
        entry_time: Date;
        entry_price: number;
        exit_time: Date | null;
        exit_price: number | null;
        qty: number;
      }[]
    >`SELECT entry_time, entry_price, exit_time, exit_price, qty FROM backtest_trades
      WHERE backtest_id = ${body.id} ORDER BY seq`;
    expect(
      rows.map((r) => ({
        entryTime: r.entry_time.toISOString(),
        entryPrice: r.entry_price,
        exitTime: r.exit_time?.toISOString() ?? null,
        exitPrice: r.exit_price,
      })),
    ).toEqual(expected.trades);
    expect(rows.every((r) => r.qty === 100)).toBe(true);
  });

  it.each([
    [{ strategy: 'no-such', symbols: [G] }, 400, 'strategy', /unknown strategy "no-such"/],
    [
      { strategy: 'sma-crossover', symbols: [G], params: { fast: 50, slow: 20 } },
      400,
      'params.fast',
      /smaller than slow/,
    ],
    [{ strategy: 'sma-crossover', symbols: [G], params: { slow: 'x' } }, 400, 'params.slow', /number/],
    [{ strategy: 'sma-crossover', symbols: [G], cash: -5 }, 400, 'cash', /0/],
    [{ strategy: 'sma-crossover', symbols: [] }, 400, 'symbols', /1/],
    [{ strategy: 'sma-crossover', symbols: [G], from: '2030-01-01' }, 422, 'symbols.0', /no 1Day bars/],
    [{ strategy: 'sma-crossover', symbols: ['AAPL'] }, 422, 'symbols.0', /no 1Day bars/],
    [
      { strategy: 'sma-crossover', symbols: [G], from: '2014-01-01', to: '2013-01-01' },
      400,
      'to',
      /before from/,
    ],
    [{ backtestId: 'x' }, 400, 'backtestId', /number/],
    [{ backtestId: 999999 }, 404, 'backtestId', /not found/],
  ])('%j → %i naming %s, nothing written', async (body, status, field, message) => {
    const before = await count();
    const res = await call(body);
    expect(res.status).toBe(status);
    const err = (res.body as { error: { fields: Record<string, string>; message: string } }).error;
    expect(Object.keys(err.fields)).toContain(field);
    expect(`${err.message} ${err.fields[field]}`).toMatch(message);
    expect(await count()).toBe(before);
  });

  it('a queued run is claimed by one delivery only; repeats answer the stored result', async () => {
    const id = await insertBacktest(tdb.sql, {
      config: {
        strategy: 'ema-crossover',
        params: {},
        symbols: [G],
        timeframe: '1Day',
        cash: 100000,
        sizing: { type: 'fixed_qty', qty: '10' },
        fractional: false,
        commission: { type: 'none' },
        slippageBps: 0,
        fillAt: 'next_open',
        allowShort: false,
        exits: {},
        order: { type: 'market', limitOffsetBps: 0, stopOffsetBps: 0, timeInForce: 'gtc' },
        riskFreeRate: 0,
      },
    });
    const answers = await Promise.all([1, 2, 3].map(() => call({ backtestId: id })));
    for (const a of answers) expect(a.status).toBe(200);
    const statuses = answers.map((a) => (a.body as { status: string }).status);
    expect(statuses).toContain('completed');
    const [row] = await tdb.sql`SELECT status, metrics->>'trades' AS trades FROM backtests WHERE id = ${id}`;
    expect(row.status).toBe('completed');
    expect(Number(row.trades)).toBeGreaterThan(10);
    const again = await call({ backtestId: id });
    expect((again.body as { status: string }).status).toBe('completed');
  });
});

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('run-backtest function on real data (../shared/data)', () => {
  const tdb = useTestDatabase();
  beforeAll(async () => {
    const csv = parseBarsCsv(readFileSync(join(marketDataDir, 'nvda-1999-2014.txt'), 'utf8'), {
      symbol: 'NVDA',
    });
    await upsertBars(tdb.sql, csv.series[0]);
  });

  it("reproduces backtrader's SMA 10/30 on NVDA 1999–2014: 73 trades, the same final value", async () => {
    const res = await call({
      strategy: 'sma-crossover',
      symbols: ['NVDA'],
      params: { fast: 10, slow: 30 },
      sizing: { type: 'fixed_qty', qty: 100 },
      cash: 100000,
    });
    expect(res.status).toBe(200);
    const body = res.body as { id: number; summary: { trades: number }; metrics: { endEquity: number } };
    expect(body.summary.trades).toBe(73);
    expect(body.metrics.endEquity).toBeCloseTo(103370.8751, 6);
    const [row] =
      await tdb.sql`SELECT status, (SELECT count(*)::int FROM backtest_trades WHERE backtest_id = ${body.id}) AS trades FROM backtests WHERE id = ${body.id}`;
    expect(row).toEqual({ status: 'completed', trades: 73 }); // flat at the end of the data: every trade closed
  });
});
