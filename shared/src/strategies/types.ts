import type { z } from 'zod';

/** The bar a strategy sees. The caller reuses one object for every bar: copy what you keep. */
export interface BarView {
  /** Bar start, epoch ms. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export const HOLD = 0;
export const BUY = 1;
export const SELL = -1;
/**
 * A per-bar decision. BUY: be long (cover a short, open a long when flat). SELL: be out (close a long;
 * open a short only when the strategy instance allows shorting). HOLD: nothing. Numbers, not objects,
 * so the backtester's loop allocates nothing.
 */
export type Decision = -1 | 0 | 1;

/** A running strategy on one symbol: it receives bars in time order and never sees a later bar. */
export interface StrategyInstance {
  next(bar: Readonly<BarView>): Decision;
}

// biome-ignore lint/suspicious/noExplicitAny: a module's schema type is its own business
export type AnyParamsSchema = z.ZodObject<any>;

/**
 * A strategy module. Pure: no database, bus, exchange or clock; the same module runs in
 * generate-signals, in the backtester and in a worker thread.
 */
export interface StrategyModule<S extends AnyParamsSchema = AnyParamsSchema> {
  name: string;
  description: string;
  /** Parameters with defaults and bounds; the UI renders its form from this schema. */
  params: S;
  /** Bars needed before the first decision can be other than HOLD. */
  warmup(params: z.output<S>): number;
  create(params: z.output<S>): StrategyInstance;
}

export function defineStrategy<S extends AnyParamsSchema>(module: StrategyModule<S>): StrategyModule<S> {
  return module;
}
