import type { BarSeries } from '../bars/index.ts';
import type { BarView } from '../strategies/types.ts';

/**
 * The bar a strategy sees in a backtest: a window onto its series' columns at the current index, so
 * moving to the next bar is one integer store instead of copying six numbers. The fields are own,
 * enumerable, read-only getters, so spread, JSON and Object.keys see a bar like any other; like every
 * BarView it is reused for each bar (a strategy copies what it keeps).
 */
export class SeriesBarView implements BarView {
  declare readonly time: number;
  declare readonly open: number;
  declare readonly high: number;
  declare readonly low: number;
  declare readonly close: number;
  declare readonly volume: number;
  #i = 0;
  readonly #time: Float64Array;
  readonly #open: Float64Array;
  readonly #high: Float64Array;
  readonly #low: Float64Array;
  readonly #close: Float64Array;
  readonly #volume: Float64Array;

  // One set of getter functions shared by every view (so every view has the same shape).
  static readonly #fields: PropertyDescriptorMap = {
    time: {
      enumerable: true,
      get(this: SeriesBarView) {
        return this.#time[this.#i];
      },
    },
    open: {
      enumerable: true,
      get(this: SeriesBarView) {
        return this.#open[this.#i];
      },
    },
    high: {
      enumerable: true,
      get(this: SeriesBarView) {
        return this.#high[this.#i];
      },
    },
    low: {
      enumerable: true,
      get(this: SeriesBarView) {
        return this.#low[this.#i];
      },
    },
    close: {
      enumerable: true,
      get(this: SeriesBarView) {
        return this.#close[this.#i];
      },
    },
    volume: {
      enumerable: true,
      get(this: SeriesBarView) {
        return this.#volume[this.#i];
      },
    },
  };

  constructor(series: BarSeries) {
    this.#time = series.time;
    this.#open = series.open;
    this.#high = series.high;
    this.#low = series.low;
    this.#close = series.close;
    this.#volume = series.volume;
    Object.defineProperties(this, SeriesBarView.#fields);
  }

  /** Shows bar i of the series. */
  moveTo(i: number): void {
    this.#i = i;
  }
}
