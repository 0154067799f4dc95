/**
 * Each built-in on a short series whose decisions were worked out by hand (the arithmetic is in the
 * comments), plus properties every built-in must keep: JSON-schema'd parameters with defaults and
 * bounds, and warm-up bars answering HOLD.
 */
import { describe, expect, it } from 'vitest';
import {
  type BarView,
  BUILTIN_STRATEGIES,
  type Decision,
  paramsJsonSchema,
  prepareStrategy,
  type StrategyModule,
} from '../../src/strategies/index.ts';

interface Bar {
  close: number;
  high?: number;
  low?: number;
}

/** Runs a strategy over closes and returns { index: decision } for every non-HOLD decision. */
async function decisions(
  name: string,
  params: Record<string, unknown>,
  bars: Bar[],
): Promise<Record<number, Decision>> {
  const p = await prepareStrategy(name, params);
  const inst = p.module.create(p.params);
  const view: BarView = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  const out: Record<number, Decision> = {};
  bars.forEach((b, i) => {
    view.time = i * 86_400_000;
    view.open = b.close;
    view.close = b.close;
    view.high = b.high ?? b.close;
    view.low = b.low ?? b.close;
    const d = inst.next(view);
    if (d !== 0) out[i] = d;
  });
  return out;
}

const closes = (xs: number[]): Bar[] => xs.map((close) => ({ close }));

describe('sma-crossover', () => {
  it('buys where SMA(2) crosses above SMA(3) and sells where it crosses below', async () => {
    // SMA2 from i1: 9.5 8.5 7.5 7.5 8.5 9.5 9.5 8.5 7.5; SMA3 from i2: 9 8 7.667 8 9 9.333 9 8
    // diff from i2: -.5 -.5 -.167 +.5 (up at 5) +.5 +.167 -.5 (down at 8) -.5
    expect(
      await decisions('sma-crossover', { fast: 2, slow: 3 }, closes([10, 9, 8, 7, 8, 9, 10, 9, 8, 7])),
    ).toEqual({
      5: 1,
      8: -1,
    });
  });
  it("uses backtrader's rule: touching and leaving on the same side is no cross", async () => {
    // fast 1 / slow 2: diff = (close - previous close) / 2. Rising, flat, rising: +, 0, + → no cross.
    expect(await decisions('sma-crossover', { fast: 1, slow: 2 }, closes([4, 5, 5, 6]))).toEqual({});
    // Falling, flat, rising: -, 0, + → an up-cross on the rise.
    expect(await decisions('sma-crossover', { fast: 1, slow: 2 }, closes([5, 4, 4, 5]))).toEqual({ 3: 1 });
  });
  it('names the bad parameter', async () => {
    await expect(prepareStrategy('sma-crossover', { fast: 30, slow: 10 })).rejects.toMatchObject({
      fields: { 'params.fast': 'must be smaller than slow' },
    });
    await expect(prepareStrategy('sma-crossover', { slow: 'x' })).rejects.toMatchObject({
      fields: { 'params.slow': expect.stringContaining('number') },
    });
  });
});

describe('ema-crossover', () => {
  it('crosses on hand-computed EMAs', async () => {
    // slow EMA3 (alpha .5, seeded with the mean of 10 10 10 at i2): 10, 9.5, 8.75, 8.875, 9.9375, 10.96875, 9.984375
    // fast EMA1 = close. diff from i2: 0, -.5, -.75, +.125 (up at 5), +1.06, +1.03, -.98 (down at 8)
    expect(
      await decisions('ema-crossover', { fast: 1, slow: 3 }, closes([10, 10, 10, 9, 8, 9, 11, 12, 9])),
    ).toEqual({ 5: 1, 8: -1 });
  });
});

describe('rsi-mean-reversion', () => {
  it("buys when Wilder's RSI falls below oversold and sells when it rises above exit", async () => {
    // RSI(2): changes +1 +1 -1 -1 -1 +1 +1 +1. Seed at i2: gain 1, loss 0 → 100.
    // i3: gain .5 loss .5 → 50; i4: .25/.75 → 25 (below 30: BUY); i5: .125/.875 → 12.5
    // i6: .5625/.4375 → 56.25; i7: .78125/.21875 → 78.125 (above 70: SELL)
    expect(
      await decisions(
        'rsi-mean-reversion',
        { period: 2, oversold: 30, exit: 70 },
        closes([10, 11, 12, 11, 10, 9, 10, 11, 12]),
      ),
    ).toEqual({ 4: 1, 7: -1 });
  });
});

describe('bollinger-breakout', () => {
  it('buys on a close above the upper band and sells on a close below the middle band', async () => {
    // period 3, k 1. i2 [10 11 10]: mean 10.333 sd .471 upper 10.805; close 10 below.
    // i4 [10 10 13]: mean 11, sd 1.414, upper 12.414; close 13 above → BUY.
    // middle: i5 [10 13 12] 11.667 (close 12 above); i6 [13 12 9] 11.333, close 9 below → SELL.
    expect(
      await decisions('bollinger-breakout', { period: 3, k: 1 }, closes([10, 11, 10, 10, 13, 12, 9])),
    ).toEqual({ 4: 1, 6: -1 });
  });
});

describe('macd', () => {
  it('crosses the MACD line and its signal line', async () => {
    // fast EMA1 = close; slow EMA2 (alpha 2/3) seeded 10 at i1: 11.333 11.111 9.704 8.568 9.523 11.841
    // MACD from i1: 0 .667 -.111 -.704 -.568 .477 1.159; signal EMA2 seeded at i2 with .333:
    // .037 -.457 -.531 .141 .820. MACD − signal: .333 -.148 (down at 3) -.247 -.037 .336 (up at 6) .339
    expect(
      await decisions('macd', { fast: 1, slow: 2, signal: 2 }, closes([10, 10, 12, 11, 9, 8, 10, 13])),
    ).toEqual({ 3: -1, 6: 1 });
  });
});

describe('donchian-breakout', () => {
  it('buys above the prior 3-bar high and sells below the prior 2-bar low, once each', async () => {
    // high = close + .5, low = close - .5. i3: prior highs 10.5 11.5 10.5 → 12 > 11.5 BUY.
    // i4: 13 > 12.5 but already bought. i5: prior lows 11.5 12.5 → 11 < 11.5 SELL. i6: 9 < 10.5, already sold.
    const bars = [10, 11, 10, 12, 13, 11, 9, 10].map((c) => ({ close: c, high: c + 0.5, low: c - 0.5 }));
    expect(await decisions('donchian-breakout', { entry: 3, exit: 2 }, bars)).toEqual({ 3: 1, 5: -1 });
  });
});

describe('buy-and-hold', () => {
  it('buys on the first bar and never again', async () => {
    expect(await decisions('buy-and-hold', {}, closes([5, 4, 6, 7, 1]))).toEqual({ 0: 1 });
  });
});

describe('combination', () => {
  const series = closes([10, 9, 8, 7, 8, 9, 10, 9, 8, 7]);
  const members = [
    { strategy: 'sma-crossover', params: { fast: 2, slow: 3 }, weight: 3 },
    { strategy: 'buy-and-hold', weight: 1 },
  ];
  it('all agree: long once both are long; no exit while buy-and-hold stays long', async () => {
    // stances: buy-and-hold +1 from i0; sma +1 at 5, -1 at 8.
    expect(await decisions('combination', { members, rule: 'all' }, series)).toEqual({ 5: 1 });
  });
  it('majority of two is both', async () => {
    expect(await decisions('combination', { members, rule: 'majority' }, series)).toEqual({ 5: 1 });
  });
  it('weighted score: (3·s_sma + 1·s_bh) / 4 against ±0.5', async () => {
    // i0: .25 (no); i5: 1 → BUY; i8: (-3 + 1) / 4 = -.5 → SELL
    expect(await decisions('combination', { members, rule: 'weighted', threshold: 0.5 }, series)).toEqual({
      5: 1,
      8: -1,
    });
  });
  it("reports a member's bad parameter by its path", async () => {
    await expect(
      prepareStrategy('combination', { members: [{ strategy: 'sma-crossover', params: { fast: 0 } }] }),
    ).rejects.toMatchObject({ fields: { 'params.members.0.params.fast': expect.any(String) } });
  });
  it('refuses an unknown member with its name', async () => {
    await expect(
      prepareStrategy('combination', { members: [{ strategy: 'no-such-thing' }] }),
    ).rejects.toThrow(/no-such-thing/);
  });
});

describe('every built-in', () => {
  it.each(BUILTIN_STRATEGIES.map((m) => [m.name, m] as const))(
    '%s: defaults parse, the JSON schema carries defaults, bounds and descriptions, warm-up bars HOLD',
    async (_name, m: StrategyModule) => {
      const defaults = m.params.parse({});
      const schema = paramsJsonSchema(m) as {
        type: string;
        properties: Record<string, Record<string, unknown>>;
      };
      expect(schema.type).toBe('object');
      for (const [key, prop] of Object.entries(schema.properties)) {
        expect(prop.default, `${key} default`).toEqual((defaults as Record<string, unknown>)[key]);
        expect(typeof prop.description, `${key} description`).toBe('string');
        if (prop.type === 'integer' || prop.type === 'number') {
          expect(prop.minimum ?? prop.exclusiveMinimum, `${key} lower bound`).toBeDefined();
          expect(prop.maximum, `${key} upper bound`).toBeDefined();
        }
      }
      // JSON Schema must be a faithful description: the defaults validate against the zod schema again.
      expect(m.params.safeParse(JSON.parse(JSON.stringify(defaults))).success).toBe(true);
      const p = await prepareStrategy(m.name, {});
      const inst = m.create(p.params);
      const view: BarView = { time: 0, open: 1, high: 1, low: 1, close: 1, volume: 0 };
      for (let i = 0; i < p.warmup - 1; i++) {
        view.close = 100 + 10 * Math.sin(i);
        view.high = view.close + 1;
        view.low = view.close - 1;
        expect(inst.next(view), `bar ${i} of warm-up ${p.warmup}`).toBe(0);
      }
    },
  );
});
