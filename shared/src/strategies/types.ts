import type { z } from 'zod';
import type { OrderHint } from '../schemas/signal.ts';

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

/**
 * The one BarView a caller reuses for every bar. A class, not an object literal: V8 updates a class
 * instance's number fields in place, while an object literal's boxes each new number, which costs an
 * allocation per field per bar in a backtest's hot loop.
 */
export class MutableBarView implements BarView {
  time = Number.NaN;
  open = Number.NaN;
  high = Number.NaN;
  low = Number.NaN;
  close = Number.NaN;
  volume = Number.NaN;
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

/**
 * How to execute the decision just returned, when a market order is not what the strategy wants
 * (schemas/signal.ts: the same shape is stored with the signal and becomes the live order). Prices are
 * absolute. Read by the caller right after a BUY or SELL, never on HOLD; a strategy may return the same
 * object every time (the caller copies what it keeps).
 */
export type { OrderHint };

/** A running strategy on one symbol: it receives bars in time order and never sees a later bar. */
export interface StrategyInstance {
  next(bar: Readonly<BarView>): Decision;
  /** Optional: the order for the decision `next` just returned; absent or null means a market order. */
  order?(): Readonly<OrderHint> | null;
}

/** Exits as fractions of the entry price (0.05 = 5%); the same shape as a strategy config's `exits`. */
export interface StrategyExits {
  stopLoss?: number;
  takeProfit?: number;
  trailingStop?: number;
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
  /** Optional default exits; a strategy config's or backtest's own `exits` take precedence. */
  exits?(params: z.output<S>): StrategyExits;
  /** Optional: names of the other strategies this one runs (a combination); loaded before `create`. */
  requires?(params: z.output<S>): string[];
}

export function defineStrategy<S extends AnyParamsSchema>(module: StrategyModule<S>): StrategyModule<S> {
  return module;
}
