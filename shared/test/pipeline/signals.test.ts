import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { getCursors, getSignal, getStrategy, listSignals } from '../../src/db/index.ts';
import { DemoMarket } from '../../src/demo/index.ts';
import { generateSignals, placeSignalOrders } from '../../src/pipeline/index.ts';
import type { Bar } from '../../src/schemas/index.ts';
import {
  BUY,
  defineStrategy,
  HOLD,
  loadStrategy,
  type SELL,
  type StrategyModule,
  smaCrossover,
} from '../../src/strategies/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import {
  barsFrom,
  CROSS_UP,
  clearClock,
  count,
  MIN,
  makeStrategy,
  pipelineContext,
  RecordingBus,
  setClock,
  storeBars,
  useBus,
} from './helpers.ts';

const T0 = Date.UTC(2024, 9, 7, 9, 0);

/** Bars of a hand-made walk under the symbol `symbol` (the demo market's path, renamed). */
function walk(symbol: string, n: number): Bar[] {
  return new DemoMarket({ seed: 99 })
    .bars('ACME', '1Min', T0, T0 + (n - 1) * MIN)
    .map((b) => ({ ...b, symbol }));
}

describe('generate-signals', () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  const ctx = () => pipelineContext(t.sql, bus, 'signals');
  beforeAll(async () => {
    await useBus(bus);
  });
  afterAll(() => clearClock());

  it('decides live exactly as one pass over the same bars does (the backtest), whatever the batch sizes', async () => {
    const bars = walk('LIVE', 240);
    const params = { fast: 3, slow: 8 };
    await makeStrategy(t.sql, { name: 'live-eq', symbols: ['LIVE'], params });
    // One pass, as the backtester runs it.
    const instance = smaCrossover.create(params);
    const reference = bars
      .map((b) => ({ time: b.time, d: instance.next({ ...b, time: Date.parse(b.time) }) }))
      .filter((x, i) => i >= 59 && x.d !== HOLD)
      .map((x) => `${x.time} ${x.d === BUY ? 'buy' : 'sell'}`);
    // Live: history up to bar 59, then batches of uneven size, a run after each.
    await storeBars(t.sql, bars.slice(0, 60));
    await generateSignals(ctx(), { strategies: ['live-eq'] });
    let at = 60;
    for (const size of [1, 1, 2, 5, 1, 13, 3, 40, 1, 1, 60, 8, 44]) {
      await storeBars(t.sql, bars.slice(at, at + size));
      at += size;
      await generateSignals(ctx(), { strategies: ['live-eq'] });
    }
    expect(at).toBe(240);
    const live = (await listSignals(t.sql, { strategy: 'live-eq', limit: 500 })).items
      .reverse()
      .map((s) => `${s.barTime} ${s.side}`);
    expect(reference.length).toBeGreaterThan(10);
    expect(live).toEqual(reference);
    const strategy = await getStrategy(t.sql, 'live-eq');
    expect((await getCursors(t.sql, strategy!.id)).get('LIVE')).toBe(Date.parse(bars[239].time));
  });

  it('is idempotent: a repeated or concurrent run creates and announces nothing twice', async () => {
    await storeBars(t.sql, barsFrom('IDEM', T0, CROSS_UP));
    await makeStrategy(t.sql, { name: 'idem', symbols: ['IDEM'] });
    bus.published.length = 0;
    const runs = await Promise.all([1, 2, 3].map(() => generateSignals(ctx(), { strategies: ['idem'] })));
    expect(runs.flatMap((r) => r.signalIds)).toHaveLength(1);
    expect(await count(t.sql, 'signals', `strategy = 'idem'`)).toBe(1);
    expect(bus.ofType('signals.created')).toHaveLength(1);
    expect((await generateSignals(ctx(), { strategies: ['idem'] })).signalIds).toEqual([]);
  });

  it('looks at a series seen for the first time on its newest bar only (no flood of old signals)', async () => {
    // A crossover on bar 8, then a long history after it with no decision on the last bar.
    await storeBars(t.sql, barsFrom('FRESH', T0, [...CROSS_UP, 104, 104, 104]));
    await makeStrategy(t.sql, { name: 'fresh', symbols: ['FRESH'] });
    const r = await generateSignals(ctx(), { strategies: ['fresh'] });
    expect(r.strategies).toEqual([{ name: 'fresh', status: 'ok', evaluated: 1, signals: 0 }]);
  });

  it('reports a bad config or a broken strategy by name and reason, and runs the others', async () => {
    await storeBars(t.sql, barsFrom('MIXD', T0, CROSS_UP.slice(0, 8)));
    await makeStrategy(t.sql, { name: 'good', symbols: ['MIXD'] });
    await makeStrategy(t.sql, { name: 'no-module', module: 'no-such-strategy', symbols: ['MIXD'] });
    await makeStrategy(t.sql, { name: 'bad-params', params: { fast: 9, slow: 4 }, symbols: ['MIXD'] });
    await makeStrategy(t.sql, { name: 'throws', module: 'throws', symbols: ['MIXD'] });
    await makeStrategy(t.sql, { name: 'malformed', module: 'malformed', symbols: ['MIXD'] });
    await makeStrategy(t.sql, { name: 'no-instance', module: 'no-instance', symbols: ['MIXD'] });
    const params = z.object({});
    const broken: Record<string, StrategyModule> = {
      throws: defineStrategy({
        name: 'throws',
        description: 'throws on the bar after the first run',
        params,
        warmup: () => 0,
        create: () => ({
          next(bar) {
            if (bar.time >= T0 + 8 * MIN) throw new Error('division by zero');
            return HOLD;
          },
        }),
      }),
      malformed: defineStrategy({
        name: 'malformed',
        description: 'returns what is not a decision',
        params,
        warmup: () => 0,
        create: () => ({ next: () => 2 as typeof SELL }),
      }),
      'no-instance': defineStrategy({
        name: 'no-instance',
        description: 'create returns nothing',
        params,
        warmup: () => 0,
        create: () => undefined as never,
      }),
    };
    const load = async (name: string) => broken[name] ?? loadStrategy(name);
    const names = ['good', 'no-module', 'bad-params', 'throws', 'malformed', 'no-instance'];
    await generateSignals(ctx(), { strategies: names }, { loadStrategy: load }); // first look: cursors at bar 7
    await storeBars(t.sql, barsFrom('MIXD', T0, CROSS_UP).slice(8));
    const r = await generateSignals(ctx(), { strategies: names }, { loadStrategy: load });
    const by = Object.fromEntries(r.strategies.map((s) => [s.name, s]));
    expect(by.good).toMatchObject({ status: 'ok', signals: 1 });
    expect(by['no-module']).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/no-such-strategy.*no such strategy/),
    });
    expect(by['bad-params']).toMatchObject({
      status: 'error',
      reason: 'params.fast: must be smaller than slow',
    });
    expect(by.throws).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/next\(\) threw on MIXD at .*division by zero/),
    });
    expect(by.malformed).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/returned 2 on MIXD; expected -1, 0 or 1/),
    });
    expect(by['no-instance']).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/did not return an object/),
    });
    expect(r.signalIds).toHaveLength(1);
    // a failed strategy's cursor stays put: it is retried, not skipped past
    const throws = await getStrategy(t.sql, 'throws');
    expect((await getCursors(t.sql, throws!.id)).get('MIXD')).toBe(T0 + 7 * MIN);
  });

  it('skips a signal whose bar is no longer the newest (stale) instead of trading late', async () => {
    await storeBars(t.sql, barsFrom('STALE', T0, CROSS_UP));
    await makeStrategy(t.sql, { name: 'stale', symbols: ['STALE'] });
    setClock(T0 + 10 * MIN);
    const { signalIds } = await generateSignals(ctx(), { strategies: ['stale'] });
    expect(signalIds).toHaveLength(1);
    await storeBars(t.sql, barsFrom('STALE', T0 + 9 * MIN, [104.5]));
    const [r] = await placeSignalOrders(ctx(), signalIds);
    expect(r.outcome).toBe('skipped');
    const signal = await getSignal(t.sql, signalIds[0]);
    expect(signal).toMatchObject({
      status: 'skipped',
      statusReason: `stale: a newer bar (${new Date(T0 + 9 * MIN).toISOString()}) exists`,
    });
    expect(await count(t.sql, 'orders', `signal_id = ${signalIds[0]}`)).toBe(0);
  });

  it('filters by the bars.fetched payload (exchange, timeframe, symbols) and 404s an unknown strategy', async () => {
    const r = await generateSignals(ctx(), {
      exchange: 'sim',
      timeframe: '1Hour',
      symbols: ['IDEM'],
      count: 1,
      latest: null,
    });
    expect(r.strategies).toEqual([]);
    await expect(generateSignals(ctx(), { strategies: ['nope'] })).rejects.toMatchObject({
      status: 404,
      fields: { 'strategies.0': 'not found' },
    });
  });
});
