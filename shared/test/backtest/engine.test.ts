/**
 * The engine's execution rules on small hand-made bars: when and at what price each order type fills,
 * time in force, slippage bounds, commissions, sizing, cash and short checks, exits with the pessimistic
 * rule, and one portfolio across symbols.
 */
import { describe, expect, it } from 'vitest';
import { runEngine } from '../../src/backtest/engine.ts';
import { DEFAULT_ENGINE_CONFIG } from '../../src/backtest/types.ts';
import { GuardedInstance } from '../../src/strategies/guard.ts';
import { bars, DAY, run, Script, T0 } from './helpers.ts';

const flat = (n: number, p = 10): [number, number, number, number][] =>
  Array.from({ length: n }, () => [p, p + 1, p - 1, p] as [number, number, number, number]);

describe('market orders', () => {
  const s = bars('A', [
    [10, 11, 9, 10],
    [12, 13, 11, 12.5],
    [13, 14, 12, 13],
  ]);
  it('fill at the next bar open by default', () => {
    const r = run(s, { 0: 1 });
    expect(r.fills).toEqual([
      { symbol: 'A', time: T0 + DAY, side: 'buy', qty: 100, price: 12, fee: 0, reason: 'signal' },
    ]);
    expect(r.endEquity).toBe(100_000 - 1200 + 1300);
  });
  it('fill at the next close or at the decision close when configured', () => {
    expect(run(s, { 0: 1 }, { fillAt: 'next_close' }).fills[0]).toMatchObject({
      time: T0 + DAY,
      price: 12.5,
    });
    expect(run(s, { 0: 1 }, { fillAt: 'close' }).fills[0]).toMatchObject({ time: T0, price: 10 });
  });
  it('never fill outside the bar: slippage is clamped to the range', () => {
    const g = bars('A', [
      [10, 11, 9, 10],
      [12, 12, 11, 11.5], // opens at its high
      [11, 12, 10.99, 11], // opens just above its low
    ]);
    const r = run(g, { 0: 1, 1: -1 }, { slippageBps: 100 });
    expect(r.fills.map((f) => f.price)).toEqual([12, 10.99]);
    // Without the clamp the prices would be 12.12 and 10.89: slippage applies inside the range.
    const wide = run(
      bars('A', [
        [10, 11, 9, 10],
        [12, 13, 11, 12],
        [11, 12, 10, 11],
      ]),
      { 0: 1, 1: -1 },
      { slippageBps: 100 },
    );
    expect(wide.fills.map((f) => f.price)).toEqual([12 * 1.01, 11 * 0.99]);
  });
});

describe('limit, stop and stop-limit orders', () => {
  it('a buy limit fills at the limit when the low touches it, at the open when the bar gaps below', () => {
    const touch = bars('A', [
      [10, 11, 9.9, 10],
      [10, 11, 9.8, 10.5], // not touched
      [10, 10.5, 9, 9.5], // touched
    ]);
    expect(run(touch, { 0: [1, { type: 'limit', limitPrice: 9.5 }] }).fills[0]).toMatchObject({
      time: T0 + 2 * DAY,
      price: 9.5,
    });
    const gap = bars('A', [
      [10, 11, 9.9, 10],
      [9, 9.2, 8.5, 9], // opens below the limit
    ]);
    expect(run(gap, { 0: [1, { type: 'limit', limitPrice: 9.5 }] }).fills[0]).toMatchObject({ price: 9 });
  });
  it('a sell limit above the market fills when the high reaches it', () => {
    const s = bars('A', [
      [10, 11, 9, 10],
      [10, 11, 9, 10.5], // buy at 10
      [10.5, 12.5, 10, 12], // sell limit 12 touched
    ]);
    const r = run(s, { 0: 1, 1: [-1, { type: 'limit', limitPrice: 12 }] });
    expect(r.fills.map((f) => [f.side, f.price])).toEqual([
      ['buy', 10],
      ['sell', 12],
    ]);
    expect(r.trades[0]).toMatchObject({ pnl: 200, exitPrice: 12, exitReason: 'signal' });
  });
  it('a buy stop fills at the stop when the high reaches it, at the open on a gap above', () => {
    const s = bars('A', [
      [10, 10.5, 9.5, 10],
      [10, 10.8, 9.8, 10.5], // not reached
      [10.5, 11.5, 10, 11], // reached
    ]);
    expect(run(s, { 0: [1, { type: 'stop', stopPrice: 11 }] }).fills[0]).toMatchObject({
      time: T0 + 2 * DAY,
      price: 11,
    });
    const gap = bars('A', [
      [10, 10.5, 9.5, 10],
      [12, 12.5, 11.8, 12],
    ]);
    expect(run(gap, { 0: [1, { type: 'stop', stopPrice: 11 }] }).fills[0]).toMatchObject({ price: 12 });
  });
  it('a stop-limit fills at the stop when triggered inside the bar with the stop within the limit', () => {
    const s = bars('A', [
      [10, 10.5, 9.5, 10],
      [10.5, 11.5, 10.4, 11],
    ]);
    expect(
      run(s, { 0: [1, { type: 'stop_limit', stopPrice: 11, limitPrice: 11.2 }] }).fills[0],
    ).toMatchObject({ price: 11 });
  });
  it('a stop-limit whose limit is beyond the stop waits for a later bar to reach the limit', () => {
    const s = bars('A', [
      [10, 10.5, 9.5, 10],
      [10.5, 11.5, 10.4, 11], // triggers at 11; cannot know whether 10.8 traded after that
      [11, 11.2, 10.7, 11], // now a limit at 10.8: low 10.7 reaches it
    ]);
    const r = run(s, { 0: [1, { type: 'stop_limit', stopPrice: 11, limitPrice: 10.8 }] });
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0]).toMatchObject({ time: T0 + 2 * DAY, price: 10.8 });
  });
  it('a day order expires when its session ends unfilled; a GTC order keeps working', () => {
    const s = bars('A', [
      [10, 11, 9.9, 10],
      [10, 11, 9.8, 10.5], // the day order's session: not touched
      [10, 10.5, 9, 9.5], // touched, but the day order is gone
    ]);
    const day = run(s, { 0: [1, { type: 'limit', limitPrice: 9.5, timeInForce: 'day' }] });
    expect(day.fills).toEqual([]);
    expect(day.orders).toMatchObject({ submitted: 1, expired: 1, filled: 0 });
    const gtc = run(s, { 0: [1, { type: 'limit', limitPrice: 9.5, timeInForce: 'gtc' }] });
    expect(gtc.fills).toHaveLength(1);
    expect(gtc.orders).toMatchObject({ submitted: 1, expired: 0, filled: 1 });
  });
  it('default order type and offsets come from the config', () => {
    const s = bars('A', [
      [10, 11, 9.9, 10],
      [10, 10.5, 9.8, 10], // a buy limit 100 bps under the close (9.9) fills at 9.9
    ]);
    const r = run(
      s,
      { 0: 1 },
      { order: { type: 'limit', limitOffsetBps: 100, stopOffsetBps: 0, timeInForce: 'gtc' } },
    );
    expect(r.fills[0].price).toBeCloseTo(9.9, 12);
  });
  it('a new decision replaces a working order', () => {
    const s = bars('A', flat(4));
    const r = run(s, { 0: [1, { type: 'limit', limitPrice: 5 }], 1: 1 });
    expect(r.orders).toMatchObject({ submitted: 2, canceled: 1, filled: 1 });
    expect(r.fills[0]).toMatchObject({ time: T0 + 2 * DAY, price: 10 });
  });
});

describe('commissions, sizing and cash', () => {
  const s = bars('A', [
    [10, 11, 9, 10],
    [12, 13, 11, 12],
    [12, 13, 11, 12],
  ]);
  it.each([
    [{ type: 'per_share', perShare: 0.005, minimum: 1 } as const, 100, 1],
    [{ type: 'per_share', perShare: 0.005, minimum: 1 } as const, 500, 2.5],
    [{ type: 'percent', percent: 0.1 } as const, 100, 1.2],
    [{ type: 'fixed', perOrder: 2.5 } as const, 100, 2.5],
  ])('%j on %i shares at 12 costs %f', (commission, qty, fee) => {
    const r = run(s, { 0: 1 }, { commission, sizing: { type: 'fixed_qty', qty } });
    expect(r.fills[0].fee).toBeCloseTo(fee, 12);
    expect(r.fees).toBeCloseTo(fee, 12);
    expect(r.endEquity).toBeCloseTo(100_000 - fee, 9);
  });
  it('fixed notional and percent of equity size from the decision close, in whole units', () => {
    expect(run(s, { 0: 1 }, { sizing: { type: 'fixed_notional', notional: 1050 } }).fills[0].qty).toBe(105);
    expect(
      run(s, { 0: 1 }, { cash: 10_000, sizing: { type: 'percent_equity', percent: 50 } }).fills[0].qty,
    ).toBe(500);
    const frac = run(s, { 0: 1 }, { fractional: true, sizing: { type: 'fixed_notional', notional: 1000 } });
    expect(frac.fills[0].qty).toBeCloseTo(100, 8);
    const odd = run(
      bars('A', [
        [3, 3, 3, 3],
        [3, 3, 3, 3],
      ]),
      { 0: 1 },
      { fractional: true, sizing: { type: 'fixed_notional', notional: 1000 } },
    );
    expect(odd.fills[0].qty).toBe(333.33333333);
  });
  it('a buy larger than the cash shrinks to what the cash pays, fees included; none at all is rejected', () => {
    const r = run(
      s,
      { 0: 1 },
      { cash: 1000, sizing: { type: 'fixed_qty', qty: 200 }, commission: { type: 'fixed', perOrder: 4 } },
    );
    expect(r.fills[0].qty).toBe(83); // (1000 − 4) / 12 = 83
    expect(r.fills[0].qty * 12 + 4).toBeLessThanOrEqual(1000);
    const none = run(s, { 0: 1 }, { cash: 5 });
    expect(none.fills).toEqual([]);
    expect(none.orders.rejected).toBe(1);
  });
});

describe('shorting', () => {
  const s = bars('A', [
    [10, 11, 9, 10],
    [10, 11, 9, 10], // short 100 at 10
    [8, 9, 7, 8],
    [8, 9, 7, 8], // cover and go long at 8
    [9, 10, 8, 9],
  ]);
  it('is refused unless allowed', () => {
    expect(run(s, { 0: -1 }).fills).toEqual([]);
  });
  it('opens a short, and a BUY covers it and goes long (two round trips)', () => {
    const r = run(s, { 0: -1, 2: 1 }, { allowShort: true });
    expect(r.fills.map((f) => [f.side, f.qty, f.price])).toEqual([
      ['sell', 100, 10],
      ['buy', 200, 8],
    ]);
    expect(r.trades.map((t) => [t.side, t.entryPrice, t.exitPrice, t.pnl])).toEqual([
      ['short', 10, 8, 200],
      ['long', 8, null, 100], // open, marked at the last close 9
    ]);
    expect(r.endEquity).toBe(100_000 + 200 + 100);
  });
  it('may not exceed the equity', () => {
    const r = run(s, { 0: -1 }, { allowShort: true, cash: 500 });
    expect(r.fills[0].qty).toBe(50);
  });
});

describe('exits', () => {
  const enter: [number, number, number, number] = [100, 100.5, 99.5, 100];
  const entryBar: [number, number, number, number] = [100, 101, 99, 100];
  const cases: [string, [number, number, number, number], object, number, string][] = [
    [
      'stop-loss touched inside the bar fills at the stop',
      [99, 101, 94, 96],
      { stopLoss: 0.05 },
      95,
      'stop_loss',
    ],
    ['a gap through the stop fills at the open', [93, 94, 90, 92], { stopLoss: 0.05 }, 93, 'stop_loss'],
    [
      'take-profit touched fills at the target',
      [100, 106, 99, 104],
      { takeProfit: 0.05 },
      105,
      'take_profit',
    ],
    [
      'a gap through the target fills at the (better) open',
      [107, 108, 106, 107],
      { takeProfit: 0.05 },
      107,
      'take_profit',
    ],
    [
      'a bar touching both takes the stop (pessimistic)',
      [100, 106, 94, 100],
      { stopLoss: 0.05, takeProfit: 0.05 },
      95,
      'stop_loss',
    ],
  ];
  it.each(cases)('%s', (_name, bar, exits, price, reason) => {
    const r = run(bars('A', [enter, entryBar, bar, enter]), { 0: 1 }, { exits });
    expect(r.fills.map((f) => [f.side, f.price, f.reason])).toEqual([
      ['buy', 100, 'signal'],
      ['sell', price, reason],
    ]);
    expect(r.trades[0]).toMatchObject({ exitReason: reason, exitPrice: price, pnl: (price - 100) * 100 });
  });
  it('a trailing stop follows the highest high since entry', () => {
    const r = run(
      bars('A', [enter, [100, 110, 99.5, 108], [108, 109, 98, 99], enter]),
      { 0: 1 },
      { exits: { trailingStop: 0.1 } },
    );
    // Entry 100, the entry bar's high 110 lifts the stop to 99; the next bar's low 98 takes it.
    expect(r.fills[1]).toMatchObject({ price: 99, reason: 'trailing_stop', time: T0 + 2 * DAY });
  });
  it("the entry bar's own range can stop out a position entered at its open", () => {
    const r = run(bars('A', [enter, [100, 101, 94, 96], enter]), { 0: 1 }, { exits: { stopLoss: 0.05 } });
    expect(r.fills.map((f) => f.time)).toEqual([T0 + DAY, T0 + DAY]);
  });
  it('a short stop-loss sits above the entry', () => {
    const r = run(
      bars('A', [enter, entryBar, [101, 106, 100, 104], enter]),
      { 0: -1 },
      { allowShort: true, exits: { stopLoss: 0.05 } },
    );
    expect(r.fills[1]).toMatchObject({ side: 'buy', price: 105, reason: 'stop_loss' });
    expect(r.trades[0].pnl).toBe(-500);
  });
  it('an order queued before an exit does not overshoot the now-flat position', () => {
    // A sell limit at 105 is queued on bar 1; the stop-loss closes the position during bar 2; bar 3
    // reaches 105, but there is nothing left to sell (and no short is allowed).
    const r = run(
      bars('A', [enter, entryBar, [99, 101, 94, 96], [104, 106, 103, 105]]),
      { 0: 1, 1: [-1, { type: 'limit', limitPrice: 105 }] },
      { exits: { stopLoss: 0.05 } },
    );
    expect(r.fills.map((f) => [f.side, f.price, f.reason])).toEqual([
      ['buy', 100, 'signal'],
      ['sell', 95, 'stop_loss'],
    ]);
    expect(r.orders).toMatchObject({ submitted: 2, filled: 1, canceled: 1 });
  });
});

describe('one portfolio across symbols', () => {
  it('marks every symbol at its last close on the merged timeline and shares the cash', () => {
    const a = bars('A', flat(5, 10)); // every day
    const b = bars('B', flat(3, 10), T0 + DAY, 2 * DAY); // days 1, 3, 5
    const r = run([a, b], [{ 0: 1 }, { 0: 1 }], { cash: 1100, sizing: { type: 'fixed_qty', qty: 60 } });
    expect(Array.from(r.times)).toEqual([0, 1, 2, 3, 4, 5].map((d) => T0 + d * DAY));
    // A buys 60 at 10 on day 1; B's order (60) waits for B's next bar on day 3, when 500 cash buys 50.
    expect(r.fills.map((f) => [f.symbol, f.time, f.qty])).toEqual([
      ['A', T0 + DAY, 60],
      ['B', T0 + 3 * DAY, 50],
    ]);
    expect(r.equity[5]).toBe(1100);
    expect(Array.from(r.exposed)).toEqual([0, 1, 1, 1, 1, 1]);
  });
  it('the engine guards raw instances: a throw or a malformed decision disables that symbol only', () => {
    const faults: string[] = [];
    let n = 0;
    const throwsOnThird = {
      next: () =>
        ++n === 3
          ? (() => {
              throw new Error('bad');
            })()
          : 0,
    } as unknown as Script;
    const malformed = { next: () => 7 } as unknown as Script;
    const r = runEngine(
      [bars('A', flat(5)), bars('B', flat(5)), bars('C', flat(5))],
      [throwsOnThird, malformed, new Script({ 0: 1 })],
      { ...DEFAULT_ENGINE_CONFIG },
      {
        strategy: 'mine',
        onFault: (f) => faults.push(`${f.strategy} ${f.symbol} ${f.barTime}: ${f.reason}`),
      },
    );
    expect(faults).toEqual([
      `mine B ${T0}: returned 7; a decision is -1, 0 or 1`,
      `mine A ${T0 + 2 * DAY}: threw: bad`,
    ]);
    expect(r.fills.map((f) => f.symbol)).toEqual(['C']);
  });

  it('a strategy that fails on one symbol is disabled there while the other symbol trades on', () => {
    const faults: string[] = [];
    const boom = new GuardedInstance(
      'boom',
      {
        next: () => {
          throw new Error('bad');
        },
      },
      (f) => faults.push(`${f.symbol}: ${f.reason}`),
      'A',
    );
    const ok = new GuardedInstance('boom', new Script({ 0: 1 }), (f) => faults.push(f.reason), 'B');
    const r = runEngine([bars('A', flat(3)), bars('B', flat(3))], [boom, ok], { ...DEFAULT_ENGINE_CONFIG });
    expect(faults).toEqual(['A: threw: bad']);
    expect(r.fills.map((f) => f.symbol)).toEqual(['B']);
  });
});

describe('warm-up', () => {
  it('bars before tradeFrom feed the strategy but place no order and mark no equity', () => {
    const s = bars('A', flat(6));
    const r = run(s, { 0: 1, 3: 1 }, { tradeFrom: T0 + 2 * DAY });
    expect(r.times[0]).toBe(T0 + 2 * DAY);
    expect(r.equity).toHaveLength(4);
    expect(r.decisions.map((d) => d.time)).toEqual([T0 + 3 * DAY]);
    expect(r.fills[0].time).toBe(T0 + 4 * DAY);
  });
});
