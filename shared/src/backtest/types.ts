/**
 * The backtest engine's own vocabulary: plain numbers, ready for the hot loop. Boundary schemas (HTTP,
 * CLI, database) live in schemas/backtest.ts and are turned into these by `engineConfigOf`.
 */
import type { TradeLog } from './logs.ts';

export type CommissionModel =
  | { type: 'none' }
  /** `perShare` per unit traded, at least `minimum` per order (Interactive Brokers' tiered style). */
  | { type: 'per_share'; perShare: number; minimum: number }
  /** `percent` of the traded notional (0.1 = 0.1%). */
  | { type: 'percent'; percent: number }
  /** A flat amount per order. */
  | { type: 'fixed'; perOrder: number };

export type EngineSizing =
  | { type: 'fixed_qty'; qty: number }
  | { type: 'fixed_notional'; notional: number }
  | { type: 'percent_equity'; percent: number };

export type FillTiming =
  /** Market orders fill at the open of the symbol's next bar (backtrader's and Lean's default). */
  | 'next_open'
  /** Market orders fill at the close of the next bar. */
  | 'next_close'
  /** Market orders fill at the close of the decision bar ("cheat on close"). */
  | 'close';

export interface EngineExits {
  /** Fraction of the entry price: 0.05 exits a long 5% below its average entry. */
  stopLoss?: number;
  takeProfit?: number;
  /** Fraction below the highest high (above the lowest low for a short) since entry. */
  trailingStop?: number;
}

export interface EngineOrderDefaults {
  type: 'market' | 'limit' | 'stop' | 'stop_limit';
  /** Limit price distance from the decision bar's close, in basis points, on the favourable side. */
  limitOffsetBps: number;
  /** Stop price distance from the decision bar's close, in basis points, on the adverse side. */
  stopOffsetBps: number;
  timeInForce: 'day' | 'gtc';
}

export interface EngineConfig {
  cash: number;
  sizing: EngineSizing;
  /** Allow fractional quantities for notional and percent sizing (crypto); whole units otherwise. */
  fractional: boolean;
  commission: CommissionModel;
  /** Adverse price move on market and stop fills, in basis points; fills stay within the bar's range. */
  slippageBps: number;
  fillAt: FillTiming;
  allowShort: boolean;
  exits: EngineExits;
  order: EngineOrderDefaults;
  /** Bars before this instant (epoch ms) only warm the strategy up: no orders, no equity points. */
  tradeFrom: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  cash: 100_000,
  sizing: { type: 'fixed_qty', qty: 1 },
  fractional: false,
  commission: { type: 'none' },
  slippageBps: 0,
  fillAt: 'next_open',
  allowShort: false,
  exits: {},
  order: { type: 'market', limitOffsetBps: 0, stopOffsetBps: 0, timeInForce: 'gtc' },
  tradeFrom: Number.NEGATIVE_INFINITY,
};

export type ExitReason = 'signal' | 'stop_loss' | 'take_profit' | 'trailing_stop';

/** One execution. */
export interface FillRecord {
  symbol: string;
  time: number;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  fee: number;
  reason: ExitReason;
}

/** A round trip: from flat to flat (a reversal closes one and opens the next). */
export interface TradeRecord {
  symbol: string;
  side: 'long' | 'short';
  /** Largest absolute position held during the trade. */
  qty: number;
  entryTime: number;
  /** Average price of the fills that opened or added to the position. */
  entryPrice: number;
  /** null while the trade is still open at the end of the data. */
  exitTime: number | null;
  exitPrice: number | null;
  /** Price P&L before fees; for an open trade, marked at the last close. */
  pnl: number;
  fees: number;
  /** pnl − fees. */
  netPnl: number;
  /** netPnl relative to the entry notional. */
  returnPct: number;
  exitReason: ExitReason | null;
  /** Bars from the entry bar to the exit bar. */
  bars: number;
}

/** A decision the strategy took (non-HOLD) on a bar at or after tradeFrom. */
export interface DecisionRecord {
  symbol: string;
  time: number;
  decision: 1 | -1;
  /** The decision bar's close: the reference price live signals carry. */
  price: number;
}

export interface OrderCounts {
  submitted: number;
  filled: number;
  /** Refused: not enough cash even for one unit, or shorting not allowed. */
  rejected: number;
  /** Day orders that ended their session unfilled. */
  expired: number;
  /** Replaced by a newer decision before they filled. */
  canceled: number;
}

export interface EngineResult {
  symbols: string[];
  /**
   * Instants of the equity points (the union of the symbols' bar times from tradeFrom on). With
   * `sampledAt`, these and the other curves hold only the points at those indexes.
   */
  times: Float64Array;
  equity: Float64Array;
  /** Equal-weight buy-and-hold of the same symbols, as a growth index starting at 1. */
  benchmark: Float64Array;
  /** 1 where any position was open at the point's close. */
  exposed: Uint8Array;
  startEquity: number;
  endEquity: number;
  trades: TradeRecord[];
  fills: FillRecord[];
  decisions: DecisionRecord[];
  orders: OrderCounts;
  fees: number;
  /** Σ |qty × price| over fills. */
  tradedNotional: number;
  /** First and last close of each symbol within the traded range (market change). */
  firstClose: Float64Array;
  lastClose: Float64Array;
  /** Bars the engine processed, warm-up included. */
  barsProcessed: number;
  /** The round trips as columns, in closing order (what `trades` is built from); absent: use `trades`. */
  tradeLog?: TradeLog;
  /** Points of the whole curve; the curve arrays' length unless sampled. */
  points?: number;
  /** Indexes (into the whole curve) of the points the curve arrays hold, when the run kept only some. */
  sampledAt?: Int32Array | null;
}
