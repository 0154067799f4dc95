/**
 * Alpaca through its official SDK (`@alpacahq/alpaca-trade-api` v4), used unchanged. The generated API
 * classes share one Configuration per host, so the SDK's token-bucket rate limiter paces every request.
 * Retries are one layer, cockatiel (resilience.ts), rather than the SDK's: the SDK never retries a
 * timed-out read, and an order submit needs a lookup by client_order_id before it may be sent again,
 * which no transport-level retry can do.
 */
import { marketData, OrdersApi, trading } from '@alpacahq/alpaca-trade-api/rest';
import { clock } from '../../clock/index.ts';
import { type Logger, logger } from '../../log/index.ts';
import { countExchangeError, countExchangeRetry } from '../../metrics/counters.ts';
import { cmp } from '../../money/index.ts';
import {
  type Account,
  type Bar,
  type OrderIntent,
  TIMEFRAME_MS,
  type Timeframe,
} from '../../schemas/index.ts';
import { type RetryEvent, submitWithoutDuplicates, withRetries } from '../resilience.ts';
import {
  conformOrder,
  fixedTick,
  type InstrumentRules,
  isCryptoSymbol,
  toAlpacaSymbol,
  toAlpacaTimeframe,
  usEquityTick,
} from '../symbols.ts';
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
import { type CallKind, toExchangeError } from './errors.ts';
import {
  toAccount,
  toBar,
  toCalendarDay,
  toClock,
  toExchangeOrder,
  toOrderRequest,
  toPosition,
} from './map.ts';
import type { AlpacaSettings } from './options.ts';

const CAPABILITIES: ExchangeCapabilities = {
  orderTypes: ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'],
  timeInForce: ['day', 'gtc', 'ioc', 'fok', 'opg', 'cls'],
  fractional: true,
  notional: true,
  shorting: true,
  // Equities keep exchange hours; crypto symbols are always open (see market-hours.ts).
  alwaysOpen: false,
  // "client_order_id must be unique": Alpaca refuses any id it has seen (422).
  uniqueClientOrderIds: true,
  // order_class "oco": a take-profit limit and a stop-loss for a held position, whole shares, no crypto.
  oco: true,
};

/** Largest page Alpaca's bars endpoints serve. */
const MAX_PAGE = 10_000;
const OPEN_ORDERS_PAGE = 500;

type Asset = trading.Assets;

/** The account identity the keys open, for the live-trading check. */
export interface AccountIdentity {
  id: string;
  accountNumber: string | null;
}

export class AlpacaExchange implements ExchangeAdapter {
  readonly name: string;
  readonly capabilities = CAPABILITIES;
  readonly accountIdVariable = 'WEAVER_ALPACA_ACCOUNT_ID' as const;
  private readonly orders: OrdersApi;
  private readonly accounts: trading.AccountsApi;
  private readonly positionsApi: trading.PositionsApi;
  private readonly clockApi: trading.ClockApi;
  private readonly calendarApi: trading.CalendarApi;
  private readonly assetsApi: trading.AssetsApi;
  private readonly stocks: marketData.StockApi;
  private readonly crypto: marketData.CryptoApi;
  private readonly retried: (operation: CallKind) => (e: RetryEvent) => void;
  private readonly assets = new Map<string, Promise<Asset | null>>();
  private readonly log: Logger;
  /** In live mode, the first order waits for proof that the keys open the configured account. */
  private readonly ensureLiveAllowed: () => Promise<void>;

  constructor(private readonly s: AlpacaSettings) {
    this.name = s.name;
    this.ensureLiveAllowed = liveAccountCheck(this, () => this.s.accountId);
    this.log = logger().child({ exchange: s.name });
    this.retried = (operation) => (e) => {
      this.log.warn(
        { what: e.what, attempt: e.attempt, delayMs: e.delayMs, code: e.code, err: e.error },
        'alpaca call retried',
      );
      void countExchangeRetry(this.name, operation);
    };
    const shared = {
      keyId: s.keyId.reveal(),
      secret: s.secretKey.reveal(),
      timeoutMs: s.timeoutMs,
      rateLimit: s.rateLimit,
    };
    const tradingConfig = new trading.Configuration({ ...shared, paper: s.paper, basePath: s.tradingUrl });
    const dataConfig = new marketData.Configuration({ ...shared, basePath: s.dataUrl });
    this.orders = new OrdersApi(tradingConfig);
    this.accounts = new trading.AccountsApi(tradingConfig);
    this.positionsApi = new trading.PositionsApi(tradingConfig);
    this.clockApi = new trading.ClockApi(tradingConfig);
    this.calendarApi = new trading.CalendarApi(tradingConfig);
    this.assetsApi = new trading.AssetsApi(tradingConfig);
    this.stocks = new marketData.StockApi(dataConfig);
    this.crypto = new marketData.CryptoApi(dataConfig);
  }

  /** True when this adapter sends orders to the live (real money) host. */
  get live(): boolean {
    return !this.s.paper;
  }

  /** One request, its failure typed. */
  private async once<T>(kind: CallKind, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toExchangeError(err, kind, what);
    }
  }

  /** A failure that ends a call (after any retries), counted for /metrics. */
  private failed(kind: CallKind, err: unknown): never {
    // A missing order or symbol is an answer, not a failure of the venue.
    if (err instanceof ExchangeError && err.code !== 'not_found' && err.code !== 'unknown_symbol') {
      void countExchangeError(this.name, kind, err.code);
    }
    throw err;
  }

  /** An idempotent request, retried on 429 / 5xx / network faults / timeouts. */
  private call<T>(kind: CallKind, what: string, fn: () => Promise<T>): Promise<T> {
    return withRetries(this.s.retry, what, () => this.once(kind, what, fn), this.retried(kind)).catch((err) =>
      this.failed(kind, err),
    );
  }

  async accountIdentity(): Promise<AccountIdentity> {
    const a = await this.call('account', 'get account', () => this.accounts.getAccount());
    return { id: a.id, accountNumber: a.accountNumber ?? null };
  }

  async getAccount(): Promise<Account> {
    const a = await this.call('account', 'get account', () => this.accounts.getAccount());
    return toAccount(a, this.name, new Date(clock().now()).toISOString());
  }

  async getPositions(): Promise<ExchangePosition[]> {
    const list = await this.call('account', 'list positions', () => this.positionsApi.getAllOpenPositions());
    return list.map(toPosition);
  }

  private asset(symbol: string): Promise<Asset | null> {
    const key = toAlpacaSymbol(symbol);
    let p = this.assets.get(key);
    if (!p) {
      p = this.call('asset', `asset ${key}`, () =>
        this.assetsApi.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: key }),
      ).catch((err: ExchangeError) => {
        this.assets.delete(key);
        if (err.code === 'unknown_symbol') return null;
        throw err;
      });
      this.assets.set(key, p);
    }
    return p;
  }

  async isTradable(symbol: string): Promise<boolean> {
    const a = await this.asset(symbol);
    return !!a && a.tradable && a.status === 'active';
  }

  /** The venue's precision and minimums for one instrument. */
  async instrumentRules(symbol: string): Promise<InstrumentRules & { crypto: boolean }> {
    const a = await this.asset(symbol);
    if (!a) throw new ExchangeError('unknown_symbol', `alpaca has no asset "${symbol}"`);
    const crypto = a._class === 'crypto';
    if (crypto) {
      return {
        symbol,
        crypto,
        fractionable: true,
        qtyStep: a.minTradeIncrement ?? '0.000000001',
        minQty: a.minOrderSize ?? '0',
        minNotional: '0',
        notionalStep: '0.01',
        priceTick: fixedTick(a.priceIncrement ?? '0.01'),
      };
    }
    return {
      symbol,
      crypto,
      fractionable: a.fractionable,
      // Alpaca takes fractional share quantities to 9 decimal places.
      qtyStep: a.fractionable ? '0.000000001' : '1',
      minQty: '0',
      // The $1 floor of notional orders is checked in prepare(); qty orders have no minimum value.
      minNotional: '0',
      notionalStep: '0.01',
      priceTick: usEquityTick,
    };
  }

  /** No stop orders for crypto; oco exits for whole-share equity quantities only (see prepare). */
  async restingExits(symbol: string, qty: string): Promise<{ stop: boolean; oco: boolean }> {
    const crypto = isCryptoSymbol(symbol);
    return { stop: !crypto, oco: !crypto && /^\d+(\.0*)?$/.test(qty) };
  }

  /**
   * Alpaca's order rules, applied before sending so a 422 never costs a round trip: crypto trades GTC
   * or IOC only (a `day` intent, Weaver's default, becomes GTC) and has no stop or trailing-stop orders;
   * fractional and notional equity orders are DAY only, notional ones are market orders of at least $1;
   * trailing stops are whole shares. An OCO exit is a limit (take profit) with a stop (stop loss) for a
   * whole-share equity quantity, DAY or GTC, its take profit on the far side of its stop.
   */
  private prepare(intent: OrderIntent, rules: InstrumentRules & { crypto: boolean }): OrderIntent {
    const bad = (field: string, message: string): never => {
      throw new ExchangeError('invalid_order', `${field} ${message}`);
    };
    if (intent.orderClass === 'oco') this.checkOco(intent, rules, bad);
    let o = { ...intent };
    if (rules.crypto) {
      if (o.timeInForce === 'day') o.timeInForce = 'gtc';
      if (o.timeInForce !== 'gtc' && o.timeInForce !== 'ioc')
        bad('timeInForce', 'must be gtc or ioc for crypto');
      if (o.type === 'stop' || o.type === 'trailing_stop') bad('type', `${o.type} is not offered for crypto`);
    }
    o = conformOrder(o, rules);
    if (o.orderClass === 'oco') {
      // After conforming: the quantity as sent, both prices on the tick (take profit conservative, stop nearest).
      if (o.qty !== undefined && !/^\d+$/.test(o.qty)) bad('qty', 'must be whole shares for oco orders');
      const tpAbove = cmp(o.limitPrice as string, o.stopPrice as string) > 0;
      if (o.side === 'sell' ? !tpAbove : tpAbove) {
        bad(
          'limitPrice',
          `(take profit) must be ${o.side === 'sell' ? 'above' : 'below'} stopPrice (stop loss)`,
        );
      }
    }
    if (!rules.crypto) {
      const fractional = o.notional !== undefined || (o.qty !== undefined && !/^\d+$/.test(o.qty));
      if (fractional && o.timeInForce !== 'day')
        bad('timeInForce', 'must be day for fractional or notional orders');
      if (o.notional !== undefined && o.type !== 'market') bad('notional', 'orders must be market orders');
      if (o.notional !== undefined && Number(o.notional) < 1) bad('notional', 'must be at least 1');
      if (o.type === 'trailing_stop' && fractional)
        bad('qty', 'must be whole shares for trailing_stop orders');
    }
    return o;
  }

  private checkOco(
    o: OrderIntent,
    rules: InstrumentRules & { crypto: boolean },
    bad: (field: string, message: string) => never,
  ): void {
    if (rules.crypto) bad('orderClass', 'oco is not offered for crypto');
    if (o.type !== 'limit') bad('type', 'must be limit for an oco order');
    if (o.limitPrice === undefined) bad('limitPrice', '(take profit) is required for oco orders');
    if (o.stopPrice === undefined) bad('stopPrice', '(stop loss) is required for oco orders');
    if (o.qty === undefined || o.notional !== undefined)
      bad('qty', 'is required for oco orders, not notional');
    if (o.timeInForce !== 'day' && o.timeInForce !== 'gtc')
      bad('timeInForce', 'must be day or gtc for oco orders');
  }

  async submitOrder(intent: OrderIntent): Promise<ExchangeOrder> {
    await this.ensureLiveAllowed();
    const rules = await this.instrumentRules(intent.symbol);
    const order = this.prepare(intent, rules);
    const request = toOrderRequest(order);
    const o = await submitWithoutDuplicates<ExchangeOrder>({
      what: `alpaca submit ${order.clientOrderId}`,
      retry: this.s.retry,
      onRetry: this.retried('submit'),
      submit: () =>
        this.once('submit', `submit ${order.clientOrderId}`, () =>
          this.orders.postOrder({ postOrderRequest: request }),
        ).then(toExchangeOrder),
      lookup: () => this.getOrderByClientId(order.clientOrderId),
      matches: (existing) =>
        (existing.orderClass ?? 'simple') === (order.orderClass ?? 'simple') &&
        existing.symbol === order.symbol &&
        existing.side === order.side &&
        existing.type === order.type &&
        existing.qty === (order.qty ?? null) &&
        existing.notional === (order.notional ?? null),
    }).catch((err) => this.failed('submit', err));
    this.log.info(
      { clientOrderId: o.clientOrderId, orderId: o.id, symbol: o.symbol, status: o.status },
      'alpaca order submitted',
    );
    return o;
  }

  async getOrderByClientId(clientOrderId: string): Promise<ExchangeOrder | null> {
    try {
      const o = await this.call('order', `order ${clientOrderId}`, () =>
        this.orders.getOrderByClientOrderId({ clientOrderId }),
      );
      return toExchangeOrder(o);
    } catch (err) {
      if (err instanceof ExchangeError && err.code === 'not_found') return null;
      throw err;
    }
  }

  async getOrder(orderId: string): Promise<ExchangeOrder> {
    const o = await this.call('order', `order ${orderId}`, () =>
      this.orders.getOrderByOrderID({ orderId, nested: true }),
    );
    return toExchangeOrder(o);
  }

  /**
   * Cancels an open order. Safe to repeat: when a retry finds the order already final (the first
   * attempt landed), that is success; a filled order cannot be canceled and says so.
   */
  async cancelOrder(orderId: string): Promise<void> {
    const what = `cancel ${orderId}`;
    await withRetries(
      this.s.retry,
      what,
      async () => {
        try {
          await this.once('order', what, () => this.orders.deleteOrderByOrderID({ orderId }));
        } catch (err) {
          if (!(err instanceof ExchangeError) || err.code !== 'invalid_order') throw err;
          const o = await this.getOrder(orderId);
          if (o.status === 'canceled' || o.status === 'expired' || o.status === 'rejected') return;
          throw new ExchangeError('invalid_order', `alpaca ${what}: order is ${o.status}`, err.status);
        }
      },
      this.retried('order'),
    ).catch((err) => this.failed('order', err));
  }

  async getOpenOrders(): Promise<ExchangeOrder[]> {
    const out: ExchangeOrder[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.call('order', 'list open orders', () =>
        // nested: an OCO pair's stop leg comes under its parent, so the pair is one order.
        this.orders.getAllOrders({
          status: 'open',
          limit: OPEN_ORDERS_PAGE,
          direction: 'asc',
          after,
          nested: true,
        }),
      );
      out.push(...page.map(toExchangeOrder));
      if (page.length < OPEN_ORDERS_PAGE) return out;
      const last = page[page.length - 1].createdAt;
      const next = last ? new Date(last).toISOString() : undefined;
      if (!next || next === after) return out;
      after = next;
    }
  }

  async *getBars(req: BarsRequest): AsyncIterable<Bar[]> {
    const crypto = isCryptoSymbol(req.symbol);
    const symbol = toAlpacaSymbol(req.symbol);
    const limit = Math.min(Math.max(req.pageSize ?? MAX_PAGE, 1), MAX_PAGE);
    const seen = new Set<string>();
    let pageToken: string | undefined;
    do {
      const page = await this.barsPage(crypto, symbol, req.timeframe, {
        start: new Date(req.start),
        end: req.end ? new Date(req.end) : undefined,
        limit,
        pageToken,
      });
      const bars = (page.bars[symbol] ?? []).map((b) => toBar(req.symbol, req.timeframe, b));
      if (bars.length) yield bars;
      pageToken = page.nextPageToken ?? undefined;
      // A venue repeating a token would loop forever; stop with what was read.
      if (pageToken && seen.has(pageToken)) {
        throw new ExchangeError('unavailable', `alpaca bars ${symbol}: the venue repeated a page token`);
      }
      if (pageToken) seen.add(pageToken);
    } while (pageToken);
  }

  private barsPage(
    crypto: boolean,
    symbols: string,
    timeframe: Timeframe,
    q: { start?: Date; end?: Date; limit: number; pageToken?: string; sort?: 'asc' | 'desc' },
  ): Promise<{
    bars: Record<string, (marketData.StockBar | marketData.CryptoBar)[]>;
    nextPageToken: string | null;
  }> {
    const tf = toAlpacaTimeframe(timeframe);
    if (crypto) {
      return this.call('data', `crypto bars ${symbols}`, () =>
        this.crypto.cryptoBars({
          loc: this.s.cryptoLocation as never,
          symbols,
          timeframe: tf,
          ...q,
          sort: q.sort as never,
        }),
      );
    }
    return this.call('data', `stock bars ${symbols}`, () =>
      this.stocks.stockBars({
        symbols,
        timeframe: tf,
        feed: this.s.feed as never,
        ...q,
        sort: q.sort as never,
      }),
    );
  }

  async getLatestBars(symbols: readonly string[], timeframe: Timeframe): Promise<Bar[]> {
    const stocks = symbols.filter((s) => !isCryptoSymbol(s)).map(toAlpacaSymbol);
    const cryptos = symbols.filter(isCryptoSymbol).map(toAlpacaSymbol);
    const out: Bar[] = [];
    if (timeframe === '1Min') {
      // The latest-bar endpoints serve the newest minute bar of each symbol in one call.
      if (stocks.length) {
        const r = await this.call('data', 'latest stock bars', () =>
          this.stocks.stockLatestBars({ symbols: stocks.join(','), feed: this.s.feed as never }),
        );
        for (const [sym, b] of Object.entries(r.bars ?? {})) out.push(toBar(sym, timeframe, b));
      }
      if (cryptos.length) {
        const r = await this.call('data', 'latest crypto bars', () =>
          this.crypto.cryptoLatestBars({ loc: this.s.cryptoLocation as never, symbols: cryptos.join(',') }),
        );
        for (const [sym, b] of Object.entries(r.bars ?? {})) out.push(toBar(sym, timeframe, b));
      }
      return out;
    }
    // Other timeframes: the newest completed bar from a short look-back, newest first. "Now" is the
    // venue's, so a skewed local clock cannot make an unfinished bar look complete.
    const now = Date.parse((await this.getClock()).timestamp);
    const ms = TIMEFRAME_MS[timeframe];
    const lookback = Math.max(ms * 10, 10 * 86_400_000);
    for (const sym of [...stocks, ...cryptos]) {
      const page = await this.barsPage(isCryptoSymbol(sym), sym, timeframe, {
        start: new Date(now - lookback),
        end: new Date(now),
        limit: 3,
        sort: 'desc',
      });
      const done = (page.bars[sym] ?? [])
        .map((b) => toBar(sym, timeframe, b))
        .find((b) => Date.parse(b.time) + ms <= now);
      if (done) out.push(done);
    }
    return out;
  }

  async getClock(): Promise<MarketClock> {
    return toClock(await this.call('data', 'clock', () => this.clockApi.legacyClock()));
  }

  async getCalendar(start: string, end: string): Promise<CalendarDay[]> {
    const days = await this.call('data', 'calendar', () =>
      this.calendarApi.legacyCalendar({
        start: new Date(`${start}T00:00:00Z`),
        end: new Date(`${end}T00:00:00Z`),
      }),
    );
    return days.map(toCalendarDay).filter((d) => d.date >= start && d.date <= end);
  }
}
