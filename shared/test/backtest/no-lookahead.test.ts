/**
 * No look-ahead: change every bar after t (wildly) and rerun; every decision and every fill up to t
 * must be identical, for every built-in strategy, with exits and limit orders in play.
 */
import { describe, expect, it } from 'vitest';
import { runEngine } from '../../src/backtest/engine.ts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../src/backtest/types.ts';
import type { BarSeries } from '../../src/bars/index.ts';
import { BUILTIN_STRATEGIES, prepareStrategy } from '../../src/strategies/index.ts';
import { hasMarketData, missingDataMessage } from '../helpers/market-data.ts';
import { fileSeries } from './helpers.ts';

/** A copy whose bars after index t are rescaled by random factors (still valid OHLC bars). */
function perturbAfter(s: BarSeries, t: number, seed: number): BarSeries {
  let x = seed;
  const rnd = () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
  const c = {
    ...s,
    open: s.open.slice(),
    high: s.high.slice(),
    low: s.low.slice(),
    close: s.close.slice(),
    volume: s.volume.slice(),
  };
  for (let i = t + 1; i < s.length; i++) {
    const f = 0.5 + rnd();
    const o = s.open[i] * f;
    const cl = s.close[i] * (0.5 + rnd());
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * (1 + rnd() * 0.05);
    c.low[i] = Math.min(o, cl) * (1 - rnd() * 0.05);
    c.volume[i] = s.volume[i] * f;
  }
  return c;
}

const cfg: EngineConfig = {
  ...DEFAULT_ENGINE_CONFIG,
  sizing: { type: 'percent_equity', percent: 90 },
  exits: { stopLoss: 0.08, takeProfit: 0.3, trailingStop: 0.15 },
};

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('no look-ahead', () => {
  const base = hasMarketData ? fileSeries('nvda-1999-2014.txt', 'NVDA') : (undefined as unknown as BarSeries);

  it.each(BUILTIN_STRATEGIES.map((m) => m.name))(
    '%s: decisions and fills up to t ignore every later bar',
    async (name) => {
      const p = await prepareStrategy(name, {});
      const runOn = (s: BarSeries, c = cfg) => runEngine([s], [p.module.create(p.params)], c);
      const full = runOn(base);
      expect(full.decisions.length).toBeGreaterThan(0);
      for (const t of [400, 1500, 3200]) {
        const cut = base.time[t];
        const other = runOn(perturbAfter(base, t, t));
        const upTo = <T extends { time: number }>(xs: T[]) => xs.filter((x) => x.time <= cut);
        expect(upTo(other.decisions)).toEqual(upTo(full.decisions));
        expect(upTo(other.fills)).toEqual(upTo(full.fills));
        // The perturbation does change what comes after (positions held past t feel it), so the
        // comparison above is not vacuous.
        const held = { ...cfg, exits: {} };
        expect(runOn(perturbAfter(base, t, t), held).equity).not.toEqual(runOn(base, held).equity);
        const limits = {
          ...cfg,
          order: {
            type: 'limit' as const,
            limitOffsetBps: 50,
            stopOffsetBps: 0,
            timeInForce: 'day' as const,
          },
        };
        expect(upTo(runOn(perturbAfter(base, t, t + 1), limits).fills)).toEqual(
          upTo(runOn(base, limits).fills),
        );
      }
    },
  );
});
