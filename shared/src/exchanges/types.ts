import type {
  Account,
  Bar,
  OrderClass,
  OrderIntent,
  OrderStatus,
  OrderType,
  Side,
  Timeframe,
  TimeInForce,
} from '../schemas/index.ts';
import type { InstrumentRules } from './symbols.ts';

/** An order as the venue reports it. Quantities and prices are decimal strings (see money/index.ts). */
export interface ExchangeOrder {
  /** The venue's order id. */
  id: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  qty: string | null;
  notional: string | null;
  limitPrice: string | null;
  stopPrice: string | null;
  /** 'oco' for a one-cancels-other pair, reported as one order (its legs' fills summed); absent = simple. */
  orderClass?: OrderClass;
  status: OrderStatus;
  /** Cumulative filled quantity and its average price; fills are derived from changes of these. */
  filledQty: string;
  filledAvgPrice: string | null;
  /** Fees charged so far, in the account currency, where the venue reports them. */
  fee: string;
  submittedAt: string;
  updatedAt: string;
  filledAt: string | null;
  /** Venue's reason for a reject / cancel, where given. */
  reason?: string | null;
}

/** A venue-level position (all books together), signed qty. */
export interface ExchangePosition {
  symbol: string;
  qty: string;
  avgEntryPrice: string;
  marketValue: string | null;
  currentPrice: string | null;
  unrealizedPnl: string | null;
}

export interface MarketClock {
  timestamp: string;
  isOpen: boolean;
  nextOpen: string | null;
  nextClose: string | null;
}

export interface CalendarDay {
  /** YYYY-MM-DD */
  date: string;
  /** ISO instants of the session's open and close. */
  open: string;
  close: string;
}

export interface BarsRequest {
  symbol: string;
  timeframe: Timeframe;
  /** Inclusive ISO instant. */
  start: string;
  /** Inclusive ISO instant; defaults to now. */
  end?: string;
  /** Page size hint; adapters page until `end` regardless. */
  pageSize?: number;
}

export interface ExchangeCapabilities {
  orderTypes: readonly OrderType[];
  timeInForce: readonly TimeInForce[];
  fractional: boolean;
  notional: boolean;
  shorting: boolean;
  /** True when the venue trades around the clock (crypto). */
  alwaysOpen: boolean;
  /**
   * True when the venue refuses a client order id it has ever seen, whatever became of that order
   * (Alpaca, the sim); false or absent when only open orders' ids must be unique (Binance), where a
   * resent id of a filled order is a second order.
   */
  uniqueClientOrderIds?: boolean;
  /**
   * True when the venue takes `orderClass: 'oco'` exits (a take-profit limit and a stop for one
   * quantity, one cancelling the other). Without it a position's resting protection is its stop alone.
   */
  oco?: boolean;
}

/** Typed venue errors, so callers (and the order's row and the UI) know what happened. */
export type ExchangeErrorCode =
  | 'insufficient_funds'
  | 'invalid_order'
  | 'duplicate_client_order_id'
  | 'not_found'
  | 'unknown_symbol'
  | 'rate_limited'
  | 'unavailable'
  | 'auth'
  | 'timeout'
  | 'market_closed'
  | 'unknown';

export class ExchangeError extends Error {
  constructor(
    readonly code: ExchangeErrorCode,
    message: string,
    readonly status?: number,
    readonly retryable = code === 'rate_limited' || code === 'unavailable' || code === 'timeout',
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

/**
 * One venue. Every method is safe to retry except `submitOrder`, which callers make safe by setting
 * `clientOrderId` (deterministic) and calling `getOrderByClientId` before any retry.
 */
export interface ExchangeAdapter {
  readonly name: string;
  readonly capabilities: ExchangeCapabilities;
  getAccount(): Promise<Account>;
  getPositions(): Promise<ExchangePosition[]>;
  submitOrder(intent: OrderIntent): Promise<ExchangeOrder>;
  /**
   * null when the venue has no order with that client id. `symbol`, when the caller knows it, lets
   * venues that index orders per symbol (Binance through CCXT) find closed orders too; without it such
   * a venue searches its open orders and throws rather than answer a "no" it cannot be sure of.
   */
  getOrderByClientId(clientOrderId: string, symbol?: string): Promise<ExchangeOrder | null>;
  cancelOrder(orderId: string): Promise<void>;
  getOpenOrders(): Promise<ExchangeOrder[]>;
  /** Historical bars, all pages from start to end, ascending. */
  getBars(req: BarsRequest): AsyncIterable<Bar[]>;
  /** The newest completed bar per symbol. */
  getLatestBars(symbols: readonly string[], timeframe: Timeframe): Promise<Bar[]>;
  getClock(): Promise<MarketClock>;
  /** Trading sessions between two dates (inclusive, YYYY-MM-DD); venues open 24/7 return every day. */
  getCalendar(start: string, end: string): Promise<CalendarDay[]>;
  /** True when the venue lists the symbol as tradable. */
  isTradable(symbol: string): Promise<boolean>;
  /**
   * The venue's precision and minimums for a symbol, where it has them: what `conformOrder` applies
   * before an order leaves, so callers can tell a venue-rounded size from a different order.
   */
  instrumentRules?(symbol: string): Promise<InstrumentRules>;
  /**
   * Which of a position's exits can rest here for `symbol` at `qty` (pipeline/protect.ts): a stop order,
   * and a one-cancels-other stop + take-profit. Absent: a stop where `capabilities.orderTypes` has one,
   * an oco where `capabilities.oco`.
   */
  restingExits?(symbol: string, qty: string): Promise<{ stop: boolean; oco: boolean }>;
  close?(): Promise<void>;
}
