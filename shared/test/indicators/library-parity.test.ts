/**
 * Our streaming indicators against independent, well-kept npm libraries on real market data, to 1e-9.
 * trading-signals (actively maintained) is the reference for SMA, Wilder RSI, Bollinger, ATR, Donchian
 * and the standard deviation; technicalindicators for the SMA-seeded EMA and MACD, which is the
 * TA-Lib/backtrader convention (trading-signals seeds its EMA with the first price instead).
 */
import { EMA as TiEma, MACD as TiMacd } from 'technicalindicators';
import {
  ATR as TsAtr,
  BollingerBands as TsBollinger,
  DonchianChannels as TsDonchian,
  RSI as TsRsi,
  SMA as TsSma,
} from 'trading-signals';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Atr,
  Bollinger,
  Donchian,
  Ema,
  Macd,
  RollingMax,
  RollingMin,
  Rsi,
  Sma,
  StdDev,
} from '../../src/indicators/index.ts';
import {
  ALL_FILES,
  hasMarketData,
  missingDataMessage,
  type Ohlcv,
  readOhlcv,
} from '../helpers/market-data.ts';

const TOL = 1e-9;

/** Compares two aligned arrays (NaN/undefined = no reading) and returns the worst absolute gap. */
function worstGap(ours: number[], theirs: (number | null | undefined)[]): number {
  expect(ours.length).toBe(theirs.length);
  let worst = 0;
  let compared = 0;
  for (let i = 0; i < ours.length; i++) {
    const t = theirs[i];
    if (t === null || t === undefined) {
      expect(Number.isNaN(ours[i]), `index ${i}: we have a reading where the library has none`).toBe(true);
      continue;
    }
    expect(Number.isNaN(ours[i]), `index ${i}: the library has a reading where we have none`).toBe(false);
    worst = Math.max(worst, Math.abs(ours[i] - t));
    compared++;
  }
  expect(compared).toBeGreaterThan(50);
  return worst;
}

/** technicalindicators returns only the readings; align them to the end of the input. */
function alignEnd<T>(values: T[], length: number): (T | undefined)[] {
  return [...new Array<undefined>(length - values.length).fill(undefined), ...values];
}

if (!hasMarketData) console.warn(missingDataMessage);

describe.skipIf(!hasMarketData)('indicators equal independent libraries on ../shared/data', () => {
  for (const file of ALL_FILES) {
    describe(file, () => {
      // Read when the suite runs, not when it is collected: a skipped suite must not touch the folder.
      let d = undefined as unknown as Ohlcv;
      let n = 0;
      beforeAll(() => {
        d = readOhlcv(file);
        n = d.close.length;
      });

      it.each([5, 10, 30, 200])('SMA(%i) = trading-signals SMA', (period) => {
        const ours = new Sma(period);
        const theirs = new TsSma(period);
        const a = d.close.map((x) => ours.push(x));
        const b = d.close.map((x) => theirs.update(x, false));
        expect(worstGap(a, b)).toBeLessThanOrEqual(TOL);
      });

      it.each([9, 12, 26, 50])('EMA(%i) = technicalindicators EMA', (period) => {
        const ours = new Ema(period);
        const a = d.close.map((x) => ours.push(x));
        const b = alignEnd(TiEma.calculate({ period, values: d.close }), n);
        expect(worstGap(a, b)).toBeLessThanOrEqual(TOL);
      });

      it.each([2, 14, 21])('RSI(%i) = trading-signals RSI (Wilder)', (period) => {
        const ours = new Rsi(period);
        const theirs = new TsRsi(period);
        const a = d.close.map((x) => ours.push(x));
        const b = d.close.map((x) => theirs.update(x, false));
        expect(worstGap(a, b)).toBeLessThanOrEqual(TOL);
      });

      it('MACD(12, 26, 9) = technicalindicators MACD with EMAs', () => {
        const ours = new Macd(12, 26, 9);
        const macd: number[] = [];
        const signal: number[] = [];
        const hist: number[] = [];
        for (const x of d.close) {
          ours.push(x);
          macd.push(ours.macd);
          signal.push(ours.signal);
          hist.push(ours.histogram);
        }
        const r = alignEnd(
          TiMacd.calculate({
            values: d.close,
            fastPeriod: 12,
            slowPeriod: 26,
            signalPeriod: 9,
            SimpleMAOscillator: false,
            SimpleMASignal: false,
          }),
          n,
        );
        expect(
          worstGap(
            macd,
            r.map((x) => x?.MACD),
          ),
        ).toBeLessThanOrEqual(TOL);
        expect(
          worstGap(
            signal,
            r.map((x) => x?.signal),
          ),
        ).toBeLessThanOrEqual(TOL);
        expect(
          worstGap(
            hist,
            r.map((x) => x?.histogram),
          ),
        ).toBeLessThanOrEqual(TOL);
      });

      it.each([
        [20, 2],
        [10, 1.5],
      ])('Bollinger(%i, %f) and StdDev = trading-signals BollingerBands', (period, k) => {
        const ours = new Bollinger(period, k);
        const sd = new StdDev(period);
        const theirs = new TsBollinger(period, k);
        const mid: number[] = [];
        const up: number[] = [];
        const lo: number[] = [];
        const dev: number[] = [];
        const r = d.close.map((x) => {
          ours.push(x);
          mid.push(ours.middle);
          up.push(ours.upper);
          lo.push(ours.lower);
          dev.push(sd.push(x));
          return theirs.update(x, false);
        });
        expect(
          worstGap(
            mid,
            r.map((x) => x?.middle),
          ),
        ).toBeLessThanOrEqual(TOL);
        expect(
          worstGap(
            up,
            r.map((x) => x?.upper),
          ),
        ).toBeLessThanOrEqual(TOL);
        expect(
          worstGap(
            lo,
            r.map((x) => x?.lower),
          ),
        ).toBeLessThanOrEqual(TOL);
        expect(
          worstGap(
            dev,
            r.map((x) => (x ? (x.upper - x.middle) / k : x)),
          ),
        ).toBeLessThanOrEqual(TOL);
      });

      it.each([14, 20])('ATR(%i) = trading-signals ATR', (period) => {
        const ours = new Atr(period);
        const theirs = new TsAtr(period);
        const a: number[] = [];
        const b: (number | null)[] = [];
        for (let i = 0; i < n; i++) {
          a.push(ours.push(d.high[i], d.low[i], d.close[i]));
          b.push(theirs.update({ high: d.high[i], low: d.low[i], close: d.close[i] }, false));
        }
        expect(worstGap(a, b)).toBeLessThanOrEqual(TOL);
      });

      it.each([10, 20, 55])(
        'Donchian(%i) and rolling max/min = trading-signals DonchianChannels',
        (period) => {
          const ours = new Donchian(period);
          const max = new RollingMax(period);
          const min = new RollingMin(period);
          const theirs = new TsDonchian(period);
          const up: number[] = [];
          const lo: number[] = [];
          const mid: number[] = [];
          const r: ({ upper: number; lower: number; middle: number } | null)[] = [];
          for (let i = 0; i < n; i++) {
            ours.push(d.high[i], d.low[i]);
            up.push(ours.upper);
            lo.push(ours.lower);
            mid.push(ours.middle);
            expect(max.push(d.high[i])).toBe(ours.upper);
            expect(min.push(d.low[i])).toBe(ours.lower);
            r.push(theirs.update({ high: d.high[i], low: d.low[i] }, false));
          }
          expect(
            worstGap(
              up,
              r.map((x) => x?.upper),
            ),
          ).toBe(0);
          expect(
            worstGap(
              lo,
              r.map((x) => x?.lower),
            ),
          ).toBe(0);
          expect(
            worstGap(
              mid,
              r.map((x) => x?.middle),
            ),
          ).toBeLessThanOrEqual(TOL);
        },
      );
    });
  }
});
