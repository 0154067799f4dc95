import { BollingerBands, EMA, SMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { bollinger, type Candle, drawdown, ema, labelsThatFit, sma, snapToCandles } from './series.ts';

const closes = Array.from({ length: 120 }, (_, i) => 100 + 10 * Math.sin(i / 7) + (i % 5) - 2);
const candles: Candle[] = closes.map((c, i) => ({
  time: 1_700_000_000 + i * 60,
  open: c,
  high: c + 1,
  low: c - 1,
  close: c,
}));

describe('chart overlays agree with the technicalindicators package', () => {
  it('SMA', () => {
    const ours = sma(candles, 20).map((p) => p.value);
    const theirs = SMA.calculate({ period: 20, values: closes });
    expect(ours).toHaveLength(theirs.length);
    for (const [i, v] of ours.entries()) expect(v).toBeCloseTo(theirs[i], 9);
    expect(sma(candles, 20)[0].time).toBe(candles[19].time);
  });

  it('EMA', () => {
    const ours = ema(candles, 50).map((p) => p.value);
    const theirs = EMA.calculate({ period: 50, values: closes });
    expect(ours).toHaveLength(theirs.length);
    for (const [i, v] of ours.entries()) expect(v).toBeCloseTo(theirs[i], 9);
  });

  it('Bollinger bands', () => {
    const ours = bollinger(candles, 20, 2);
    const theirs = BollingerBands.calculate({ period: 20, stdDev: 2, values: closes });
    expect(ours.upper).toHaveLength(theirs.length);
    for (const [i, p] of ours.upper.entries()) expect(p.value).toBeCloseTo(theirs[i].upper, 9);
    for (const [i, p] of ours.lower.entries()) expect(p.value).toBeCloseTo(theirs[i].lower, 9);
  });
});

describe('snapToCandles', () => {
  it('puts each trade on the candle containing it and drops trades outside the chart', () => {
    const times = [1000, 1300, 1600];
    const marks = snapToCandles(
      [
        { time: 1599, side: 'sell' },
        { time: 999, side: 'buy' },
        { time: 1000, side: 'buy' },
        { time: 1899, side: 'buy' },
        { time: 1900, side: 'sell' },
      ],
      times,
      300,
    );
    expect(marks).toEqual([
      { time: 1000, side: 'buy' },
      { time: 1300, side: 'sell' },
      { time: 1600, side: 'buy' },
    ]);
  });
});

describe('drawdown', () => {
  it('is the fall from the running peak', () => {
    const dd = drawdown([
      { time: 1, value: 100 },
      { time: 2, value: 120 },
      { time: 3, value: 90 },
      { time: 4, value: 130 },
    ]);
    expect(dd.map((p) => p.value)).toEqual([0, 0, -0.25, 0]);
  });
});

describe('labelsThatFit', () => {
  it('shows a label only where it clears its neighbours and the plot edges', () => {
    const t = 'B 10 @ 90.5'; // about 80 px wide
    // Far apart: both fit. Piled up at the right edge: none does; clipped by the edge: no.
    expect(labelsThatFit([100, 400], [t, t], 800)).toEqual([true, true]);
    expect(labelsThatFit([700, 705, 710, 712], [t, t, t, t], 800)).toEqual([false, false, false, false]);
    expect(labelsThatFit([790], [t], 800)).toEqual([false]);
    expect(labelsThatFit([10], [t], 800)).toEqual([false]);
    // A lone one keeps its label beside a pile; off-screen markers (null) take no room.
    expect(labelsThatFit([200, 600, 603, null], [t, t, t, t], 800)).toEqual([true, false, false, false]);
    // No text, nothing to show; an arrow without text still takes a little room.
    expect(labelsThatFit([300, 320], [undefined, t], 800)).toEqual([false, false]);
    expect(labelsThatFit([300, 360], [undefined, t], 800)).toEqual([false, true]);
  });
});
