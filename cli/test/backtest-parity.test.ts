/**
 * One strategy code path: the same stored bars through generate-signals (the real function handler, run
 * after each batch of bars as fetch-bars would trigger it) and through the backtester give identical
 * signals; the parity report and `weaver parity` then agree, and name the cause once a bar is revised.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parityReport, parseBarsCsv, runBacktest } from '@weaver/shared/backtest';
import { type BarSeries, emptySeries } from '@weaver/shared/bars';
import { setBus } from '@weaver/shared/bus';
import { upsertBars, upsertStrategy } from '@weaver/shared/db';
import { invokeHandler } from '@weaver/shared/runtime';
import { BacktestConfig } from '@weaver/shared/schemas';
import { prepareStrategy } from '@weaver/shared/strategies';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import generateSignals from '../../functions/generate-signals/handler.ts';
import { hasMarketData, marketDataDir, missingDataMessage } from '../../shared/test/helpers/market-data.ts';
import { REPO_ROOT } from './helpers.ts';

function slice(s: BarSeries, from: number, to: number): BarSeries {
  const out = emptySeries(s.symbol, s.timeframe, to - from);
  for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const)
    out[k].set(s[k].subarray(from, to));
  return out;
}

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData || !natsUrl())('live signals = backtest signals', () => {
  const tdb = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  let nvda: BarSeries;
  const first = 200; // bars stored before the strategy first runs
  beforeAll(async () => {
    nats = await createTestNatsBus();
    setBus(nats.bus);
    const { readFileSync } = await import('node:fs');
    nvda = parseBarsCsv(readFileSync(join(marketDataDir, 'nvda-1999-2014.txt'), 'utf8'), { symbol: 'NVDA' })
      .series[0];
  });
  afterAll(async () => {
    await nats?.drop();
  });

  it('generate-signals over the stored bars, batch by batch, decides exactly what the backtester decides', async () => {
    await upsertStrategy(tdb.sql, {
      name: 'nvda-sma',
      module: 'sma-crossover',
      params: { fast: 10, slow: 30 },
      enabled: true,
      symbols: ['NVDA'],
      timeframe: '1Day',
      exchange: null,
      sizing: { type: 'fixed_qty', qty: '100' },
    });
    await upsertBars(tdb.sql, slice(nvda, 0, first));
    // First run: a new series is evaluated on its newest bar only (history is not a reason to trade now).
    let res = await invokeHandler(generateSignals, { body: {} });
    expect(res.status).toBe(200);
    // Then the rest arrives in batches of 250 bars, each followed by a run.
    for (let i = first; i < nvda.length; i += 250) {
      await upsertBars(tdb.sql, slice(nvda, i, Math.min(nvda.length, i + 250)));
      res = await invokeHandler(generateSignals, { body: {} });
      expect(res.status).toBe(200);
    }
    const live = await tdb.sql<{ bar_time: Date; side: string; price: number }[]>`
      SELECT bar_time, side, price FROM signals WHERE strategy = 'nvda-sma' ORDER BY bar_time`;
    const prepared = await prepareStrategy('sma-crossover', { fast: 10, slow: 30 });
    const firstEvaluated = nvda.time[first - 1];
    const outcome = runBacktest(
      [nvda],
      prepared,
      BacktestConfig.parse({
        strategy: 'sma-crossover',
        symbols: ['NVDA'],
        from: new Date(firstEvaluated).toISOString(),
      }),
    );
    const simulated = outcome.decisions.map((d) => ({
      t: d.time,
      side: d.decision > 0 ? 'buy' : 'sell',
      price: d.price,
    }));
    expect(simulated.length).toBeGreaterThan(100);
    expect(live.map((l) => ({ t: l.bar_time.getTime(), side: l.side, price: l.price }))).toEqual(simulated);
  });

  it('the parity report finds no difference, and names the cause after a bar is revised', async () => {
    const from = new Date(nvda.time[first]).toISOString();
    const to = new Date(nvda.time[nvda.length - 1]).toISOString();
    const clean = await parityReport(tdb.sql, { from, to });
    const s = clean.strategies[0];
    expect(s.error).toBeNull();
    expect(s.signals.live).toBeGreaterThan(100);
    expect(s.signals).toEqual({ live: s.signals.live, backtest: s.signals.live, matched: s.signals.live });
    expect(s.differences.filter((d) => d.kind === 'signal')).toEqual([]);
    // Only generate-signals ran here: no signal became an order, and the report says so for each fill.
    const fills = s.differences.filter((d) => d.kind === 'fill');
    expect(fills.length).toBeGreaterThan(100);
    expect(
      fills.every((d) => d.live === null && /the live signal has no order yet/.test(d.cause ?? '')),
    ).toBe(true);

    // Revise the close of a bar that carried a signal: live acted on the old value.
    const [sig] = await tdb.sql<{ bar_time: Date; price: number }[]>`
      SELECT bar_time, price FROM signals WHERE strategy = 'nvda-sma' AND bar_time > ${new Date(from)} ORDER BY bar_time LIMIT 1`;
    const i = nvda.time.indexOf(sig.bar_time.getTime());
    await upsertBars(tdb.sql, [
      {
        symbol: 'NVDA',
        timeframe: '1Day',
        time: sig.bar_time.toISOString(),
        open: nvda.open[i],
        high: nvda.high[i] * 1.5,
        low: nvda.low[i],
        close: nvda.high[i] * 1.4,
        volume: nvda.volume[i],
      },
    ]);
    const revised = await parityReport(tdb.sql, { from, to });
    const d = revised.strategies[0].differences.find(
      (x) => x.kind === 'signal' && x.barTime === sig.bar_time.toISOString(),
    );
    expect(d?.cause).toMatch(/the bar was revised after the signal: live saw close/);
  });

  it('compares live fills with the simulated ones: slippage, partial fills, refusals, skipped signals', async () => {
    const from = new Date(nvda.time[first]).toISOString();
    const to = new Date(nvda.time[nvda.length - 1]).toISOString();
    const sigs = await tdb.sql<{ id: number; bar_time: Date; side: 'buy' | 'sell' }[]>`
      SELECT id, bar_time, side FROM signals WHERE strategy = 'nvda-sma' AND bar_time > ${new Date(from)}
      ORDER BY bar_time OFFSET 10 LIMIT 6`;
    // Live signals are taken right after their bar closes (these bars are history, so set it so); the last one late.
    await tdb.sql`UPDATE signals SET created_at = bar_time + interval '1 day 1 hour' WHERE id = ANY(${sigs.slice(0, 5).map((x) => x.id)}::bigint[])`;
    const nextOpen = (t: Date) => nvda.open[nvda.time.indexOf(t.getTime()) + 1];
    const order = async (sig: (typeof sigs)[0], status: string, error: string | null) => {
      const [o] = await tdb.sql<{ id: number }[]>`
        INSERT INTO orders (client_order_id, exchange, strategy, signal_id, symbol, side, type, time_in_force, qty, status, error_message)
        VALUES (${`parity-${sig.id}`}, 'sim', 'nvda-sma', ${sig.id}, 'NVDA', ${sig.side}, 'market', 'day', 100, ${status}, ${error})
        RETURNING id`;
      return o.id;
    };
    const fill = async (orderId: number, qty: number, price: number, at: Date) => {
      await tdb.sql`INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, filled_at)
        SELECT ${orderId}, ${`f-${orderId}`}, symbol, side, ${qty}, ${price}, ${at} FROM orders WHERE id = ${orderId}`;
    };
    const day = (t: Date) => new Date(t.getTime() + 86_400_000);
    // 0: filled exactly as simulated; 1: 50 bps worse; 2: half filled; 3: refused by the venue; 4: skipped.
    await fill(await order(sigs[0], 'filled', null), 100, nextOpen(sigs[0].bar_time), day(sigs[0].bar_time));
    await fill(
      await order(sigs[1], 'filled', null),
      100,
      nextOpen(sigs[1].bar_time) * 1.005,
      day(sigs[1].bar_time),
    );
    await fill(
      await order(sigs[2], 'partially_filled', null),
      50,
      nextOpen(sigs[2].bar_time),
      day(sigs[2].bar_time),
    );
    await order(sigs[3], 'rejected', 'insufficient buying power');
    await fill(
      await order(sigs[5], 'filled', null),
      100,
      nextOpen(sigs[5].bar_time) * 1.01,
      day(sigs[5].bar_time),
    );
    await tdb.sql`UPDATE signals SET status = 'skipped', status_reason = 'trading halted: daily loss limit' WHERE id = ${sigs[4].id}`;
    const report = await parityReport(tdb.sql, { from, to });
    const fills = report.strategies[0].differences.filter((d) => d.kind === 'fill');
    const at = (i: number) => fills.find((d) => d.barTime === sigs[i].bar_time.toISOString())?.cause;
    expect(at(0)).toBeUndefined();
    expect(report.strategies[0].fills.matched).toBe(1);
    expect(at(1)).toMatch(/slippage against the simulated price: .* \(50 bps\)/);
    expect(at(2)).toBe('a partial fill: 50 of 100');
    expect(at(3)).toBe('the order was not filled: rejected: insufficient buying power');
    expect(at(4)).toBe('the live signal was skipped: trading halted: daily loss limit');
    expect(at(5)).toMatch(/the signal was taken \d+ min after its bar \(a restart or a backlog\)/);
  });

  it('`weaver parity` prints the report and exits 1 when live and backtest differ', async () => {
    const out = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          join(REPO_ROOT, 'cli', 'bin', 'weaver.js'),
          'parity',
          '--from',
          '2000-01-01',
          '--to',
          '2014-12-31',
          '--json',
        ],
        {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: tdb.url, LOG_LEVEL: 'warn' },
        },
      );
      let stdout = '';
      child.stdout.on('data', (c) => {
        stdout += c;
      });
      child.on('close', (status) => resolve({ status, stdout }));
    });
    expect(out.status).toBe(1);
    const report = JSON.parse(out.stdout);
    expect(report.strategies[0]).toMatchObject({
      strategy: 'nvda-sma',
      module: 'sma-crossover',
      error: null,
    });
    expect(report.strategies[0].differences.some((x: { cause: string }) => /revised/.test(x.cause))).toBe(
      true,
    );
  });
});
