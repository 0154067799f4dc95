/**
 * Spot crypto venues through CCXT, one adapter for the family. CCXT paces requests itself
 * (enableRateLimit); retries are cockatiel's (resilience.ts), and an order submit whose answer was
 * lost is resolved by looking the order up by client order id before it may be sent again — which
 * matters more here than on Alpaca: Binance keeps client order ids unique among *open* orders only, so
 * a blind resend of a filled order's id would be a second order.
 */
import type { Exchange, MarketInterface as Market, OHLCV, Order } from 'ccxt';
import { clock } from '../../clock/index.ts';
import { type Logger, logger } from '../../log/index.ts';
import { countExchangeError, countExchangeRetry } from '../../metrics/counters.ts';
import { add, dec, fromNumber, isPositive, mul } from '../../money/index.ts';
import {
  type Account,
  type Bar,
  type OrderIntent,
  type OrderStatus,
  TIMEFRAME_MS,
  type Timeframe,
} from '../../schemas/index.ts';
import { type RetryEvent, submitWithoutDuplicates, withRetries } from '../resilience.ts';
import { conformOrder, fixedTick, type InstrumentRules, toCcxtTimeframe } from '../symbols.ts';
import { liveAccountCheck } from '../trading-mode.ts';
import {
  type BarsRequest,
  type CalendarDay,
  type ExchangeAdapter,
  type ExchangeCapabilities,
  ExchangeError,
  type ExchangeOrder,
  type ExchangePosition,
  type MarketClock,
} from '../types.ts';
import { toExchangeError } from './errors.ts';
import type { CcxtSettings } from './options.ts';

const CAPABILITIES: ExchangeCapabilities = {
  orderTypes: ['market', 'limit'],
  timeInForce: ['gtc', 'ioc', 'fok'],
  fractional: true,
  // cash-amount market buys (Binance quoteOrderQty)
  notional: true,
  shorting: false,
  alwaysOpen: true,
};

/** Most candles one OHLCV request returns on the venues we target (Binance: 1000). */
const MAX_CANDLES = 1000;

/** A CCXT number (float) as a canonical decimal string; undefined as null. */
const num = (v: number | undefined | null): string | null =>
  v === undefined || v === null || !Number.isFinite(v) ? null : fromNumber(v);

/** A CCXT candle [time, open, high, low, close, volume] as a Weaver bar. */
const toBar = (symbol: string, timeframe: Timeframe, c: OHLCV): Bar => ({
  symbol,
  timeframe,
  time: new Date(c[0] as number).toISOString(),
  open: c[1] as number,
  high: c[2] as number,
  low: c[3] as number,
  close: c[4] as number,
  volume: c[5] as number,
});

function toStatus(o: Order): OrderStatus {
  const filled = o.filled ?? 0;
  switch (o.status) {
    case 'open':
      return filled > 0 ? 'partially_filled' : 'new';
    case 'closed':
      return 'filled';
    case 'canceled':
      return 'canceled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      return 'accepted';
  }
}

export class CcxtExchange implements ExchangeAdapter {
  readonly name: string;
  readonly capabilities = CAPABILITIES;
  readonly accountIdVariable = 'WEAVER_CCXT_ACCOUNT_ID' as const;
  private markets: Promise<Record<string, Market>> | null = null;
  /** Symbols of orders this process placed, so a lookup by client id can name the symbol. */
  private readonly symbolOf = new Map<string, string>();
  private readonly log: Logger;
  private readonly retried: (operation: string) => (e: RetryEvent) => void;
  /** In live mode, the first order waits for proof that the keys open the configured account. */
  private readonly ensureLiveAllowed: () => Promise<void>;

  constructor(
    private readonly s: CcxtSettings,
    private readonly ex: Exchange,
  ) {
    this.name = s.name;
    this.ensureLiveAllowed = liveAccountCheck(this, () => this.s.accountId);
    this.log = logger().child({ exchange: s.name, venue: s.exchangeId });
    this.retried = (operation) => (e) => {
      this.log.warn(
        { what: e.what, attempt: e.attempt, delayMs: e.delayMs, code: e.code, err: e.error },
        'ccxt call retried',
      );
      void countExchangeRetry(this.name, operation);
    };
  }

  get live(): boolean {
    return !this.s.sandbox;
  }

  private async once<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toExchangeError(err, this.s.exchangeId, what);
    }
  }

  /** A failure that ends a call (after any retries), counted for /metrics. */
  private failed(operation: string, err: unknown): never {
    // A missing order or symbol is an answer, not a failure of the venue.
    if (err instanceof ExchangeError && err.code !== 'not_found' && err.code !== 'unknown_symbol') {
      void countExchangeError(this.name, operation, err.code);
    }
    throw err;
  }

  /** An idempotent request, retried on rate limits, outages and timeouts. `operation` labels metrics. */
  private call<T>(what: string, fn: () => Promise<T>, operation = 'data'): Promise<T> {
    return withRetries(this.s.retry, what, () => this.once(what, fn), this.retried(operation)).catch((err) =>
      this.failed(operation, err),
    );
  }

  private loadMarkets(): Promise<Record<string, Market>> {
    this.markets ??= this.call('load markets', () => this.ex.loadMarkets()).catch((err) => {
      this.markets = null;
      throw err;
    }) as Promise<Record<string, Market>>;
    return this.markets;
  }

  private async market(symbol: string): Promise<Market> {
    const m = (await this.loadMarkets())[symbol];
    if (m?.spot !== true) {
      throw new ExchangeError('unknown_symbol', `${this.s.exchangeId} has no spot market "${symbol}"`);
    }
    return m;
  }

  /** The account id the venue reports with the balance (Binance: `uid`), or null. */
  private uidOf(info: unknown): string | null {
    const i = (info ?? {}) as Record<string, unknown>;
    const uid = i.uid ?? i.userId ?? i.accountId;
    return uid === undefined || uid === null ? null : String(uid);
  }

  async accountIdentity(): Promise<{ id: string; accountNumber: string | null }> {
    const balance = await this.call('fetch balance', () => this.ex.fetchBalance());
    const id = this.uidOf(balance.info);
    if (id === null) {
      throw new ExchangeError(
        'auth',
        `${this.s.exchangeId} does not report an account id; live trading cannot be verified`,
      );
    }
    return { id, accountNumber: null };
  }

  /** Latest trade price of a market from its newest candle. */
  private async lastPrice(symbol: string): Promise<string | null> {
    const candles = await this.call(`ohlcv ${symbol}`, () => this.ex.fetchOHLCV(symbol, '1m', undefined, 1));
    const last = candles.at(-1);
    return last ? num(last[4] as number) : null;
  }

  async getAccount(): Promise<Account> {
    const balance = await this.call('fetch balance', () => this.ex.fetchBalance());
    const q = this.s.quoteCurrency;
    const totals = (balance.total ?? {}) as unknown as Record<string, number>;
    const cash = num(totals[q]) ?? '0';
    const free = num((balance.free as unknown as Record<string, number> | undefined)?.[q]) ?? '0';
    let equity = cash;
    for (const p of await this.positionsFrom(totals)) {
      if (p.marketValue) equity = add(equity, p.marketValue);
    }
    return {
      exchange: this.name,
      accountId: this.uidOf(balance.info),
      currency: q,
      cash,
      equity,
      buyingPower: free,
      dayPnl: null,
      at: new Date(clock().now()).toISOString(),
    };
  }

  private async positionsFrom(totals: Record<string, number>): Promise<ExchangePosition[]> {
    const markets = await this.loadMarkets();
    const out: ExchangePosition[] = [];
    for (const [asset, amount] of Object.entries(totals)) {
      const qty = num(amount);
      if (asset === this.s.quoteCurrency || !qty || !isPositive(qty)) continue;
      const symbol = `${asset}/${this.s.quoteCurrency}`;
      if (!markets[symbol]) continue;
      const price = await this.lastPrice(symbol);
      out.push({
        symbol,
        qty,
        // A spot balance carries no entry price; Weaver's books have it (positions table).
        avgEntryPrice: '0',
        marketValue: price ? mul(qty, price) : null,
        currentPrice: price,
        unrealizedPnl: null,
      });
    }
    return out;
  }

  /** Spot holdings in the quote currency's markets, as positions (long only). */
  async getPositions(): Promise<ExchangePosition[]> {
    const balance = await this.call('fetch balance', () => this.ex.fetchBalance());
    return this.positionsFrom((balance.total ?? {}) as unknown as Record<string, number>);
  }

  async isTradable(symbol: string): Promise<boolean> {
    const m = (await this.loadMarkets())[symbol];
    return !!m && m.spot === true && m.active !== false;
  }

  /** The venue's precision and minimums (CCXT's TICK_SIZE precision mode: steps, not digits). */
  async instrumentRules(symbol: string): Promise<InstrumentRules> {
    const m = await this.market(symbol);
    const step = (v: number | undefined): string => (v === undefined ? '0' : dec(fromNumber(v)));
    return {
      symbol,
      fractionable: true,
      qtyStep: step(m.precision.amount),
      minQty: step(m.limits.amount?.min),
      minNotional: step(m.limits.cost?.min),
      notionalStep: step(m.precision.price),
      priceTick: fixedTick(step(m.precision.price)),
    };
  }

  private toOrder(o: Order): ExchangeOrder {
    const ts = o.timestamp ?? clock().now();
    const feeCost = o.fee?.currency === this.s.quoteCurrency ? num(o.fee.cost) : null;
    return {
      id: String(o.id),
      clientOrderId: o.clientOrderId ?? '',
      symbol: o.symbol ?? '',
      side: o.side === 'sell' ? 'sell' : 'buy',
      type: o.type === 'limit' ? 'limit' : 'market',
      timeInForce:
        o.timeInForce?.toLowerCase() === 'ioc'
          ? 'ioc'
          : o.timeInForce?.toLowerCase() === 'fok'
            ? 'fok'
            : 'gtc',
      qty: num(o.amount),
      notional: null,
      limitPrice: o.type === 'limit' ? num(o.price) : null,
      stopPrice: num(o.triggerPrice),
      status: toStatus(o),
      filledQty: num(o.filled) ?? '0',
      filledAvgPrice: o.filled ? num(o.average) : null,
      fee: feeCost ?? '0',
      submittedAt: new Date(ts).toISOString(),
      updatedAt: new Date(o.lastUpdateTimestamp ?? o.lastTradeTimestamp ?? ts).toISOString(),
      filledAt:
        o.status === 'closed'
          ? new Date(o.lastTradeTimestamp ?? o.lastUpdateTimestamp ?? ts).toISOString()
          : null,
      reason: null,
    };
  }

  private prepare(intent: OrderIntent, rules: InstrumentRules): OrderIntent {
    const bad = (field: string, message: string): never => {
      throw new ExchangeError('invalid_order', `${field} ${message}`);
    };
    const o = { ...intent };
    // Spot crypto never closes: a day order is a good-till-canceled one.
    if (o.timeInForce === 'day') o.timeInForce = 'gtc';
    if (!CAPABILITIES.orderTypes.includes(o.type))
      bad('type', `${o.type} is not offered on ${this.s.exchangeId} spot through Weaver`);
    if (!CAPABILITIES.timeInForce.includes(o.timeInForce))
      bad('timeInForce', `must be gtc, ioc or fok on ${this.s.exchangeId}`);
    if (o.notional !== undefined && (o.type !== 'market' || o.side !== 'buy'))
      bad('notional', 'orders must be market buys');
    return conformOrder(o, rules);
  }

  async submitOrder(intent: OrderIntent): Promise<ExchangeOrder> {
    await this.ensureLiveAllowed();
    const rules = await this.instrumentRules(intent.symbol);
    // The minimum order value is checked here, not by a venue rejection: a market order without a
    // reference price is valued at the last trade.
    let sized = intent;
    if (
      sized.referencePrice === undefined &&
      sized.limitPrice === undefined &&
      isPositive(rules.minNotional)
    ) {
      sized = { ...sized, referencePrice: (await this.lastPrice(intent.symbol)) ?? undefined };
    }
    const order = this.prepare(sized, rules);
    const cid = order.clientOrderId;
    this.symbolOf.set(cid, order.symbol);
    const params: Record<string, unknown> = { clientOrderId: cid };
    let sentAt = 0;
    if (order.type === 'limit') params.timeInForce = order.timeInForce.toUpperCase();
    if (order.notional !== undefined) params.cost = order.notional;
    const o = await submitWithoutDuplicates<ExchangeOrder>({
      what: `${this.s.exchangeId} submit ${cid}`,
      retry: this.s.retry,
      onRetry: this.retried('submit'),
      submit: () => {
        sentAt = Date.now();
        return this.once(`submit ${cid}`, () =>
          this.ex.createOrder(
            order.symbol,
            order.type === 'limit' ? 'limit' : 'market',
            order.side,
            order.qty === undefined ? (undefined as unknown as number) : Number(order.qty),
            order.limitPrice === undefined ? undefined : Number(order.limitPrice),
            params,
          ),
        ).then((r) => this.toOrder(r));
      },
      // An unanswered submit may still be queued at the venue; once its recvWindow has passed it can
      // no longer be accepted, and only then does a lookup that finds nothing mean "never placed".
      settle: async (err) => {
        if (!(err instanceof ExchangeError) || (err.code !== 'timeout' && err.code !== 'unavailable')) return;
        const wait = sentAt + this.s.recvWindowMs + this.s.clockSkewMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      },
      lookup: () => this.getOrderByClientId(cid, order.symbol),
      matches: (existing) =>
        existing.symbol === order.symbol &&
        existing.side === order.side &&
        (order.qty === undefined || existing.qty === order.qty),
    }).catch((err) => this.failed('submit', err));
    this.log.info(
      { clientOrderId: cid, orderId: o.id, symbol: o.symbol, status: o.status },
      'ccxt order submitted',
    );
    return o;
  }

  /**
   * Binance indexes orders per symbol. With the symbol (given, or remembered from this process's
   * submit) any order is found; without it only open orders can be searched, and a miss there cannot
   * prove the venue has no such order, so it throws instead of answering null.
   */
  async getOrderByClientId(clientOrderId: string, symbol?: string): Promise<ExchangeOrder | null> {
    const known = symbol ?? this.symbolOf.get(clientOrderId);
    if (known) {
      try {
        const o = await this.call(
          `order ${clientOrderId}`,
          () =>
            this.ex.fetchOrder(undefined as unknown as string, known, { origClientOrderId: clientOrderId }),
          'order',
        );
        return this.toOrder(o);
      } catch (err) {
        if (err instanceof ExchangeError && err.code === 'not_found') return null;
        throw err;
      }
    }
    const open = (await this.getOpenOrders()).find((o) => o.clientOrderId === clientOrderId);
    if (open) return open;
    throw new ExchangeError(
      'unknown',
      `${this.s.exchangeId} order ${clientOrderId}: not among open orders, and without its symbol a closed one cannot be looked up`,
    );
  }

  async cancelOrder(orderId: string): Promise<void> {
    // Cancelling needs the symbol; an order that can be cancelled is open, so the open orders have it.
    const open = (await this.getOpenOrders()).find((o) => o.id === orderId);
    if (!open)
      throw new ExchangeError(
        'not_found',
        `${this.s.exchangeId} cancel ${orderId}: no open order with that id`,
      );
    await withRetries(
      this.s.retry,
      `cancel ${orderId}`,
      async () => {
        try {
          await this.once(`cancel ${orderId}`, () => this.ex.cancelOrder(orderId, open.symbol));
        } catch (err) {
          // A retry after a cancel that landed finds the order gone from the book: check, then accept.
          if (!(err instanceof ExchangeError) || (err.code !== 'not_found' && err.code !== 'invalid_order'))
            throw err;
          const now = await this.getOrderByClientId(open.clientOrderId, open.symbol);
          if (now && (now.status === 'canceled' || now.status === 'expired')) return;
          throw err;
        }
      },
      this.retried('order'),
    ).catch((err) => this.failed('order', err));
  }

  async getOpenOrders(): Promise<ExchangeOrder[]> {
    const list = await this.call('open orders', () => this.ex.fetchOpenOrders(), 'order');
    return list.map((o) => this.toOrder(o));
  }

  async *getBars(req: BarsRequest): AsyncIterable<Bar[]> {
    await this.market(req.symbol);
    const tf = toCcxtTimeframe(req.timeframe);
    const step = TIMEFRAME_MS[req.timeframe];
    const end = req.end ? Date.parse(req.end) : clock().now();
    const limit = Math.min(req.pageSize ?? MAX_CANDLES, MAX_CANDLES);
    let since = Date.parse(req.start);
    while (since <= end) {
      const from = since;
      const candles: OHLCV[] = await this.call(`ohlcv ${req.symbol}`, () =>
        this.ex.fetchOHLCV(req.symbol, tf, from, limit),
      );
      const bars = candles
        .filter((c) => (c[0] as number) >= from && (c[0] as number) <= end)
        .map((c) => toBar(req.symbol, req.timeframe, c));
      if (bars.length) yield bars;
      const last = candles.at(-1)?.[0] as number | undefined;
      if (last === undefined || candles.length < limit || last < from) return;
      since = last + step;
    }
  }

  async getLatestBars(symbols: readonly string[], timeframe: Timeframe): Promise<Bar[]> {
    const tf = toCcxtTimeframe(timeframe);
    const step = TIMEFRAME_MS[timeframe];
    // The venue's clock decides which candle is complete: the newest one is usually still forming.
    const now = await this.call('time', () => this.ex.fetchTime()).then((t) => t ?? clock().now());
    const out: Bar[] = [];
    for (const symbol of symbols) {
      const candles = await this.call(`ohlcv ${symbol}`, () => this.ex.fetchOHLCV(symbol, tf, undefined, 2));
      const done = candles.filter((c) => (c[0] as number) + step <= now).at(-1);
      if (done) out.push(toBar(symbol, timeframe, done));
    }
    return out;
  }

  async getClock(): Promise<MarketClock> {
    return {
      timestamp: new Date(clock().now()).toISOString(),
      isOpen: true,
      nextOpen: null,
      nextClose: null,
    };
  }

  async getCalendar(start: string, end: string): Promise<CalendarDay[]> {
    const out: CalendarDay[] = [];
    for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86_400_000) {
      out.push({
        date: new Date(t).toISOString().slice(0, 10),
        open: new Date(t).toISOString(),
        close: new Date(t + 86_400_000).toISOString(),
      });
    }
    return out;
  }
}
