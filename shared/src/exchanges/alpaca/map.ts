/** Alpaca's models (as the SDK parses them) to Weaver's, and Weaver's order intents to Alpaca's. */
import type { marketData, trading } from '@alpacahq/alpaca-trade-api/rest';
import { zonedTime } from '../../market-data/time.ts';
import { dec, div, isPositive, mul, sub, sum } from '../../money/index.ts';
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

/** Alpaca statuses after which an order (or a leg) never trades again. */
const ALPACA_FINAL = new Set(['filled', 'canceled', 'expired', 'rejected', 'replaced']);

export function toExchangeOrder(o: trading.Order): ExchangeOrder {
  if (o.orderClass === 'oco') return toOcoOrder(o);
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

/** One order of an OCO group: the parent (the take-profit limit) or a leg (the stop-loss). */
type OcoPart = Pick<
  trading.OrderLeg,
  'status' | 'type' | 'filledQty' | 'filledAvgPrice' | 'filledAt' | 'updatedAt' | 'stopPrice'
>;

const latest = (times: (Date | string | null | undefined)[]): string | null =>
  times.reduce<string | null>((best, t) => {
    const at = iso(t);
    return at !== null && (best === null || at > best) ? at : best;
  }, null);

/**
 * An OCO pair as ONE order: Alpaca reports the take-profit limit as the parent and the stop-loss in its
 * `legs`. Fills are the parent's and the legs' together (their quantity-weighted average price); the
 * stop price is the stop leg's; the status is the group's: filled once the legs together filled the
 * quantity, partially filled while some filled and a leg still works, the parent's own while any leg
 * works, and otherwise how the pair ended (expired, rejected or canceled).
 */
function toOcoOrder(o: trading.Order): ExchangeOrder {
  const legs: OcoPart[] = o.legs ?? [];
  const parts: OcoPart[] = [o, ...legs];
  const traded = parts.filter((p) => isPositive(p.filledQty ?? '0'));
  const filledQty = sum(traded.map((p) => p.filledQty ?? '0'));
  const filledValue = sum(traded.map((p) => mul(p.filledQty ?? '0', p.filledAvgPrice ?? '0')));
  const qty = decOrNull(o.qty);
  const working = parts.filter((p) => !ALPACA_FINAL.has(p.status ?? ''));
  let status: OrderStatus;
  if (qty !== null && isPositive(filledQty) && !isPositive(sub(qty, filledQty))) status = 'filled';
  else if (isPositive(filledQty) && working.length) status = 'partially_filled';
  else if (working.length) {
    // The parent's status while it works; a leg's ("held" reads as accepted) when only a leg does.
    status = toOrderStatus((ALPACA_FINAL.has(o.status ?? '') ? working[0] : o).status);
  } else if (parts.some((p) => p.status === 'expired')) status = 'expired';
  else if (parts.every((p) => p.status === 'rejected')) status = 'rejected';
  else if (o.status === 'replaced') status = 'replaced';
  else status = 'canceled';
  const stopLeg = legs.find((l) => l.type === 'stop' || l.type === 'stop_limit');
  const createdAt = iso(o.createdAt) ?? new Date().toISOString();
  return {
    id: String(o.id),
    clientOrderId: String(o.clientOrderId ?? ''),
    symbol: fromVenueSymbol(String(o.symbol ?? ''), { crypto: o.assetClass === 'crypto' }),
    side: o.side === 'sell' ? 'sell' : 'buy',
    type: (o.type ?? o.orderType ?? 'limit') as OrderType,
    timeInForce: o.timeInForce as TimeInForce,
    qty,
    notional: decOrNull(o.notional),
    limitPrice: decOrNull(o.limitPrice),
    stopPrice: decOrNull(stopLeg?.stopPrice ?? o.stopPrice),
    orderClass: 'oco',
    status,
    filledQty,
    filledAvgPrice: isPositive(filledQty) ? div(filledValue, filledQty) : null,
    // As for simple orders: Alpaca's order model carries no fee (equities trade commission-free).
    fee: '0',
    submittedAt: iso(o.submittedAt) ?? createdAt,
    updatedAt: latest(parts.map((p) => p.updatedAt)) ?? createdAt,
    filledAt: latest(traded.map((p) => p.filledAt)),
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
  if (o.orderClass === 'oco') {
    // Alpaca's documented OCO shape: a limit order whose prices are the two legs', nothing at the top.
    return {
      symbol: toAlpacaSymbol(o.symbol),
      side: o.side,
      type: 'limit',
      timeInForce: o.timeInForce,
      qty: o.qty,
      orderClass: 'oco',
      takeProfit: { limitPrice: o.limitPrice },
      stopLoss: { stopPrice: o.stopPrice },
      clientOrderId: o.clientOrderId,
    };
  }
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
