/** Alpaca's models (as the SDK parses them) to Weaver's, and Weaver's order intents to Alpaca's. */
import type { marketData, trading } from '@alpacahq/alpaca-trade-api/rest';
import { zonedTime } from '../../market-data/time.ts';
import { dec, sub } from '../../money/index.ts';
import type {
  Account,
  Bar,
  OrderIntent,
  OrderStatus,
  OrderType,
  Timeframe,
  TimeInForce,
} from '../../schemas/index.ts';
import { fromVenueSymbol, toAlpacaSymbol } from '../symbols.ts';
import type { CalendarDay, ExchangeOrder, ExchangePosition, MarketClock } from '../types.ts';

const iso = (d: Date | string | null | undefined): string | null =>
  d === null || d === undefined ? null : new Date(d).toISOString();

const decOrNull = (v: string | null | undefined): string | null =>
  v === null || v === undefined || v === '' ? null : dec(v);

/** Alpaca statuses outside Weaver's lifecycle, mapped to the closest one. */
const STATUS: Record<string, OrderStatus> = {
  new: 'new',
  accepted: 'accepted',
  pending_new: 'pending_new',
  partially_filled: 'partially_filled',
  filled: 'filled',
  done_for_day: 'done_for_day',
  pending_cancel: 'pending_cancel',
  pending_replace: 'pending_replace',
  canceled: 'canceled',
  expired: 'expired',
  replaced: 'replaced',
  rejected: 'rejected',
  // held: a leg waiting for its parent; stopped / suspended: accepted but not working yet
  held: 'accepted',
  stopped: 'accepted',
  suspended: 'accepted',
  accepted_for_bidding: 'accepted',
  // calculated: the day's fills are final and settlement is being computed
  calculated: 'done_for_day',
};

export function toOrderStatus(s: string | undefined): OrderStatus {
  return STATUS[s ?? ''] ?? 'accepted';
}

export function toExchangeOrder(o: trading.Order): ExchangeOrder {
  const crypto = o.assetClass === 'crypto';
  const createdAt = iso(o.createdAt) ?? new Date().toISOString();
  return {
    id: String(o.id),
    clientOrderId: String(o.clientOrderId ?? ''),
    symbol: fromVenueSymbol(String(o.symbol ?? ''), { crypto }),
    side: o.side === 'sell' ? 'sell' : 'buy',
    type: (o.type ?? o.orderType ?? 'market') as OrderType,
    timeInForce: o.timeInForce as TimeInForce,
    qty: decOrNull(o.qty),
    notional: decOrNull(o.notional),
    limitPrice: decOrNull(o.limitPrice),
    stopPrice: decOrNull(o.stopPrice),
    status: toOrderStatus(o.status),
    filledQty: dec(o.filledQty ?? '0'),
    filledAvgPrice: decOrNull(o.filledAvgPrice),
    // Alpaca charges equities no commission and reports crypto fees as account activities, not on the order.
    fee: '0',
    submittedAt: iso(o.submittedAt) ?? createdAt,
    updatedAt: iso(o.updatedAt) ?? createdAt,
    filledAt: iso(o.filledAt),
    reason: null,
  };
}

export function toPosition(p: trading.Position): ExchangePosition {
  const crypto = p.assetClass === 'crypto';
  const qty = dec(p.qty);
  return {
    symbol: fromVenueSymbol(p.symbol, { crypto }),
    // Alpaca reports qty positive with a side; Weaver's qty is signed.
    qty: p.side === 'short' && !qty.startsWith('-') ? dec(`-${qty}`) : qty,
    avgEntryPrice: dec(p.avgEntryPrice),
    marketValue: decOrNull(p.marketValue),
    currentPrice: decOrNull(p.currentPrice),
    unrealizedPnl: decOrNull(p.unrealizedPl),
  };
}

export function toAccount(a: trading.Account, exchange: string, at: string): Account {
  const equity = dec(a.equity ?? a.portfolioValue ?? '0');
  return {
    exchange,
    accountId: a.id,
    currency: a.currency ?? 'USD',
    cash: dec(a.cash ?? '0'),
    equity,
    buyingPower: dec(a.buyingPower ?? '0'),
    dayPnl: a.lastEquity ? sub(equity, a.lastEquity) : null,
    at,
  };
}

export function toClock(c: trading.LegacyClock): MarketClock {
  return {
    timestamp: iso(c.timestamp) ?? new Date().toISOString(),
    isOpen: c.isOpen,
    nextOpen: iso(c.nextOpen),
    nextClose: iso(c.nextClose),
  };
}

/** Alpaca's calendar gives New York wall times; Weaver's CalendarDay has instants. */
export function toCalendarDay(d: trading.LegacyCalendarDay): CalendarDay {
  const date = new Date(d.date).toISOString().slice(0, 10);
  return {
    date,
    open: zonedTime(date, d.open).toISOString(),
    close: zonedTime(date, d.close).toISOString(),
  };
}

/** One bar of the raw map responses; their nested timestamps may still be strings at runtime. */
export function toBar(
  symbol: string,
  timeframe: Timeframe,
  b: marketData.StockBar | marketData.CryptoBar,
): Bar {
  return {
    symbol,
    timeframe,
    time: new Date(b.t as Date | string).toISOString(),
    open: Number(b.o),
    high: Number(b.h),
    low: Number(b.l),
    close: Number(b.c),
    volume: Number(b.v),
  };
}

/** The POST /v2/orders body for an intent that already passed the venue's rules. */
export function toOrderRequest(o: OrderIntent): trading.PostOrderRequest {
  return {
    symbol: toAlpacaSymbol(o.symbol),
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    qty: o.qty,
    notional: o.notional,
    limitPrice: o.limitPrice,
    stopPrice: o.type === 'trailing_stop' ? undefined : o.stopPrice,
    trailPercent: o.type === 'trailing_stop' ? o.trailPercent : undefined,
    clientOrderId: o.clientOrderId,
  };
}
