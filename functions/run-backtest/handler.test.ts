/**
 * run-backtest through the OpenFaaS handler contract against real Postgres: a config in, the stored
 * result's id and summary out; clear 4xx answers naming the field; a queued run claimed exactly once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBarsCsv } from '@weaver/shared/backtest';
import { insertBacktest, upsertBars } from '@weaver/shared/db';
import { invokeHandler } from '@weaver/shared/runtime';
import { useTestDatabase } from '@weaver/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasMarketData, marketDataDir, missingDataMessage } from '../../shared/test/helpers/market-data.ts';
import handler from './handler.ts';

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('run-backtest function', () => {
  const tdb = useTestDatabase();
  beforeAll(async () => {
    const csv = parseBarsCsv(readFileSync(join(marketDataDir, 'nvda-1999-2014.txt'), 'utf8'), {
      symbol: 'NVDA',
    });
    await upsertBars(tdb.sql, csv.series[0]);
  });
  const call = (body: unknown) =>
    invokeHandler(handler, { body, headers: { 'content-type': 'application/json' } });
  const count = async () => Number((await tdb.sql`SELECT count(*)::int AS n FROM backtests`)[0].n);

  it('runs a config and answers the stored id, summary and metrics', async () => {
    const res = await call({
      strategy: 'sma-crossover',
      symbols: ['NVDA'],
      params: { fast: 10, slow: 30 },
      sizing: { type: 'fixed_qty', qty: 100 },
      cash: 100000,
    });
    expect(res.status).toBe(200);
    const body = res.body as {
      id: number;
      status: string;
      summary: { strategy: string; trades: number };
      metrics: { endEquity: number };
    };
    expect(body.status).toBe('completed');
    expect(body.summary).toMatchObject({
      id: body.id,
      strategy: 'sma-crossover',
      trades: 73,
      symbols: ['NVDA'],
    });
    expect(body.metrics.endEquity).toBeCloseTo(103370.8751, 6);
    const [row] =
      await tdb.sql`SELECT status, (SELECT count(*)::int FROM backtest_trades WHERE backtest_id = ${body.id}) AS trades FROM backtests WHERE id = ${body.id}`;
    expect(row).toEqual({ status: 'completed', trades: 73 }); // flat at the end of the data: every trade closed
  });

  it.each([
    [{ strategy: 'no-such', symbols: ['NVDA'] }, 400, 'strategy', /unknown strategy "no-such"/],
    [
      { strategy: 'sma-crossover', symbols: ['NVDA'], params: { fast: 50, slow: 20 } },
      400,
      'params.fast',
      /smaller than slow/,
    ],
    [{ strategy: 'sma-crossover', symbols: ['NVDA'], params: { slow: 'x' } }, 400, 'params.slow', /number/],
    [{ strategy: 'sma-crossover', symbols: ['NVDA'], cash: -5 }, 400, 'cash', /0/],
    [{ strategy: 'sma-crossover', symbols: [] }, 400, 'symbols', /1/],
    [{ strategy: 'sma-crossover', symbols: ['NVDA'], from: '2030-01-01' }, 422, 'symbols.0', /no 1Day bars/],
    [{ strategy: 'sma-crossover', symbols: ['AAPL'] }, 422, 'symbols.0', /no 1Day bars/],
    [
      { strategy: 'sma-crossover', symbols: ['NVDA'], from: '2014-01-01', to: '2013-01-01' },
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
        symbols: ['NVDA'],
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
