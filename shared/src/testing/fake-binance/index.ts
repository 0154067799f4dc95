/**
 * A small fake of Binance's spot REST API (api/v3): exchangeInfo with LOT_SIZE / PRICE_FILTER /
 * NOTIONAL filters, klines, and the signed account and order endpoints (HMAC-SHA256 over the query
 * string and body, X-MBX-APIKEY header), answering with Binance's JSON and `{ code, msg }` errors.
 * Tests point CCXT at it through its own URL configuration (`urls.api`). Client order ids are unique
 * among open orders only, as on Binance; commissions are zero, as on the spot testnet.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import Big from 'big.js';
import { TIMEFRAME_MS, type Timeframe } from '../../schemas/index.ts';
import { FakeMarket } from '../fake-alpaca/market.ts';
import {
  FakeVenue,
  type Fault,
  route,
  type VenueAnswer,
  VenueReply,
  type VenueRequest,
  type VenueRoute,
} from '../fake-venue/index.ts';
import { testSecret } from '../test-secrets.ts';

export type { Fault, FaultMode, RequestRecord } from '../fake-venue/index.ts';

export interface FakeSpotMarket {
  /** Binance id, e.g. BTCUSDT. */
  symbol: string;
  base: string;
  quote: string;
  stepSize: string;
  minQty: string;
  tickSize: string;
  minNotional: string;
}

export interface FakeBinanceOrder {
  symbol: string;
  orderId: number;
  orderListId: number;
  clientOrderId: string;
  price: string;
  origQty: string;
  executedQty: string;
  cummulativeQuoteQty: string;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
  timeInForce: string;
  type: string;
  side: 'BUY' | 'SELL';
  stopPrice: string;
  icebergQty: string;
  time: number;
  updateTime: number;
  isWorking: boolean;
  workingTime: number;
  origQuoteOrderQty: string;
  selfTradePreventionMode: string;
}

export interface FakeBinanceOptions {
  apiKey?: string;
  secret?: string;
  balances?: Record<string, string>;
  now?: number;
  markets?: FakeSpotMarket[];
}

const DEFAULT_MARKETS: FakeSpotMarket[] = [
  {
    symbol: 'BTCUSDT',
    base: 'BTC',
    quote: 'USDT',
    stepSize: '0.00001',
    minQty: '0.00001',
    tickSize: '0.01',
    minNotional: '5',
  },
  {
    symbol: 'ETHUSDT',
    base: 'ETH',
    quote: 'USDT',
    stepSize: '0.0001',
    minQty: '0.0001',
    tickSize: '0.01',
    minNotional: '5',
  },
];

const INTERVALS: Record<string, Timeframe> = {
  '1m': '1Min',
  '5m': '5Min',
  '15m': '15Min',
  '30m': '30Min',
  '1h': '1Hour',
  '4h': '4Hour',
  '1d': '1Day',
  '1w': '1Week',
};

const OPEN = new Set(['NEW', 'PARTIALLY_FILLED']);
const s = (b: Big): string => b.toFixed(8);
const reply = (status: number, code: number, msg: string): VenueReply => new VenueReply(status, code, msg);

type Auth = 'public' | 'signed';

export class FakeBinance extends FakeVenue<Auth> {
  readonly apiKey: string;
  readonly secret: string;
  readonly uid = 354_937_868;
  readonly market: FakeMarket;
  readonly markets = new Map<string, FakeSpotMarket>();
  readonly balances = new Map<string, { free: Big; locked: Big }>();
  /** Every order accepted, in order. */
  readonly orders: FakeBinanceOrder[] = [];
  private nextOrderId = 1000;
  private clockMs: number;

  constructor(o: FakeBinanceOptions = {}) {
    super();
    this.apiKey = testSecret(o.apiKey ?? 'fake-binance-api-key-0001');
    this.secret = testSecret(o.secret ?? 'fake-binance-secret-0001-xyz');
    this.clockMs = o.now ?? Date.parse('2024-03-05T15:00:00Z');
    this.market = new FakeMarket(() => this.clockMs);
    for (const m of o.markets ?? DEFAULT_MARKETS) this.markets.set(m.symbol, m);
    for (const [asset, amount] of Object.entries(o.balances ?? { USDT: '10000' })) {
      this.balances.set(asset, { free: new Big(amount), locked: new Big(0) });
    }
  }

  static async start(o: FakeBinanceOptions = {}): Promise<FakeBinance> {
    const f = new FakeBinance(o);
    await f.listen();
    return f;
  }

  get now(): number {
    return this.clockMs;
  }

  setNow(t: number | string): void {
    this.clockMs = new Date(t).getTime();
  }

  /** Unified symbol for the deterministic price curve: BTCUSDT → BTC/USDT. */
  private curveSymbol(m: FakeSpotMarket): string {
    return `${m.base}/${m.quote}`;
  }

  setPrice(symbol: string, price: number): void {
    const m = this.markets.get(symbol);
    if (!m) throw new Error(`no market ${symbol}`);
    this.market.prices.set(this.curveSymbol(m), price);
    for (const o of this.orders) if (o.symbol === symbol && OPEN.has(o.status)) this.evaluate(o);
  }

  price(symbol: string): Big {
    const m = this.markets.get(symbol) as FakeSpotMarket;
    return new Big(this.market.currentPrice(this.curveSymbol(m))).round(2);
  }

  balance(asset: string): { free: Big; locked: Big } {
    let b = this.balances.get(asset);
    if (!b) {
      b = { free: new Big(0), locked: new Big(0) };
      this.balances.set(asset, b);
    }
    return b;
  }

  ordersByClientId(clientOrderId: string): FakeBinanceOrder[] {
    return this.orders.filter((o) => o.clientOrderId === clientOrderId);
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  protected override baseHeaders(): Record<string, string> {
    return { 'x-mbx-used-weight-1m': String(this.requests.length % 1200) };
  }

  protected override errorAnswer(status: number, message?: string, fault?: Fault): VenueAnswer {
    const headers: Record<string, string> = {};
    if (status === 429 || status === 418) headers['retry-after'] = String(fault?.retryAfterS ?? 1);
    if (status >= 500)
      return {
        status,
        body: { code: -1001, msg: message ?? 'Internal error; unable to process your request.' },
      };
    const code = status === 429 ? -1003 : status === 404 ? -1000 : -1000;
    return { status, body: { code, msg: message ?? 'Too many requests.' }, headers };
  }

  protected override replyAnswer(r: VenueReply): VenueAnswer {
    return { status: r.status, body: { code: r.code, msg: r.message } };
  }

  /** Signed endpoints: X-MBX-APIKEY, a timestamp, and HMAC-SHA256(secret, query + body) as `signature`. */
  protected override authorize(r: VenueRoute<Auth>, req: VenueRequest): VenueAnswer | null {
    if (r.auth === 'public') return null;
    if (req.headers['x-mbx-apikey'] !== this.apiKey) {
      return this.replyAnswer(reply(401, -2015, 'Invalid API-key, IP, or permissions for action.'));
    }
    const total = [req.rawQuery, req.rawBody].filter(Boolean).join('&');
    const match = /(?:^|&)signature=([0-9a-f]{64})(?:&|$)/.exec(total);
    if (!match)
      return this.replyAnswer(
        reply(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."),
      );
    const payload = total.replace(/&?signature=[0-9a-f]{64}/, '');
    const expected = createHmac('sha256', this.secret).update(payload).digest();
    const got = Buffer.from(match[1], 'hex');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return this.replyAnswer(reply(400, -1022, 'Signature for this request is not valid.'));
    }
    if (!this.param(req, 'timestamp')) {
      return this.replyAnswer(
        reply(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."),
      );
    }
    return null;
  }

  private param(req: VenueRequest, name: string): string | undefined {
    const v = req.query.get(name) ?? req.body[name];
    return v === undefined || v === null ? undefined : String(v);
  }

  private marketOf(req: VenueRequest, required = true): FakeSpotMarket | undefined {
    const symbol = this.param(req, 'symbol');
    if (!symbol) {
      if (required)
        throw reply(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
      return undefined;
    }
    const m = this.markets.get(symbol);
    if (!m) throw reply(400, -1121, 'Invalid symbol.');
    return m;
  }

  /**
   * Binance processes a signed request only within `recvWindow` (default 5000 ms) of its timestamp,
   * judged when it is processed, by the server's real clock: a request held up too long is refused.
   */
  private inWindow(req: VenueRequest): void {
    const ts = Number(this.param(req, 'timestamp'));
    const window = Number(this.param(req, 'recvWindow') ?? 5000);
    const now = Date.now();
    if (!(ts < now + 1000 && now - ts <= window)) {
      throw reply(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    }
  }

  protected override routes(): VenueRoute<Auth>[] {
    const ok = (body: unknown): VenueAnswer => ({ status: 200, body });
    const signed = (id: string, fn: (req: VenueRequest) => unknown): VenueRoute<Auth> =>
      route(id, 'signed', (req) => {
        this.inWindow(req);
        return ok(fn(req));
      });
    return [
      route('GET /api/v3/ping', 'public', () => ok({})),
      route('GET /api/v3/time', 'public', () => ok({ serverTime: this.now })),
      route('GET /api/v3/exchangeInfo', 'public', () => ok(this.exchangeInfo())),
      route('GET /api/v3/klines', 'public', (req) => ok(this.klines(req))),
      signed('GET /api/v3/account', () => this.account()),
      signed('POST /api/v3/order', (req) => this.newOrder(req)),
      signed('GET /api/v3/order', (req) => this.findOrder(req)),
      signed('DELETE /api/v3/order', (req) => this.cancel(req)),
      signed('GET /api/v3/openOrders', (req) => {
        const m = this.marketOf(req, false);
        return this.orders.filter((o) => OPEN.has(o.status) && (!m || o.symbol === m.symbol));
      }),
    ];
  }

  private exchangeInfo(): unknown {
    return {
      timezone: 'UTC',
      serverTime: this.now,
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      ],
      exchangeFilters: [],
      symbols: [...this.markets.values()].map((m) => ({
        symbol: m.symbol,
        status: 'TRADING',
        baseAsset: m.base,
        baseAssetPrecision: 8,
        quoteAsset: m.quote,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        baseCommissionPrecision: 8,
        quoteCommissionPrecision: 8,
        orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
        icebergAllowed: true,
        ocoAllowed: true,
        quoteOrderQtyMarketAllowed: true,
        allowTrailingStop: true,
        cancelReplaceAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: [
          {
            filterType: 'PRICE_FILTER',
            minPrice: m.tickSize,
            maxPrice: '1000000.00000000',
            tickSize: m.tickSize,
          },
          { filterType: 'LOT_SIZE', minQty: m.minQty, maxQty: '9000.00000000', stepSize: m.stepSize },
          {
            filterType: 'NOTIONAL',
            minNotional: m.minNotional,
            applyMinToMarket: true,
            maxNotional: '9000000.00000000',
            applyMaxToMarket: false,
            avgPriceMins: 5,
          },
          {
            filterType: 'MARKET_LOT_SIZE',
            minQty: '0.00000000',
            maxQty: '100.00000000',
            stepSize: '0.00000000',
          },
        ],
        permissions: [],
        permissionSets: [['SPOT']],
        defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
        allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
      })),
    };
  }

  /** Klines: open time aligned to the interval, the still-open current kline included, as Binance does. */
  private klines(req: VenueRequest): unknown[] {
    const m = this.marketOf(req) as FakeSpotMarket;
    const interval = this.param(req, 'interval') ?? '';
    const tf = INTERVALS[interval];
    if (!tf) throw reply(400, -1120, 'Invalid interval.');
    const ms = TIMEFRAME_MS[tf];
    const limit = Math.min(Math.max(Number(this.param(req, 'limit') ?? 500) || 500, 1), 1000);
    const now = this.now;
    // Weekly klines start on Monday 00:00 UTC (epoch day 4 is a Monday).
    const offset = tf === '1Week' ? 4 * 86_400_000 : 0;
    const align = (t: number): number => Math.floor((t - offset) / ms) * ms + offset;
    const end = Math.min(Number(this.param(req, 'endTime') ?? now), now);
    const startParam = this.param(req, 'startTime');
    let start = startParam ? align(Number(startParam)) : align(end) - (limit - 1) * ms;
    if (start < Number(startParam ?? start)) start += ms;
    const out: unknown[] = [];
    const curve = this.curveSymbol(m);
    const override = this.market.prices.get(curve);
    for (let t = start; t <= end && out.length < limit; t += ms) {
      const b = this.market.bar(curve, tf, t);
      // The kline still forming trades at the price a test set.
      if (override !== undefined && t + ms > now)
        Object.assign(b, { o: override, h: override, l: override, c: override });
      const quoteVolume = new Big(b.v).times(b.vw);
      out.push([
        t,
        s(new Big(b.o)),
        s(new Big(b.h)),
        s(new Big(b.l)),
        s(new Big(b.c)),
        s(new Big(b.v)),
        t + ms - 1,
        s(quoteVolume),
        b.n,
        s(new Big(b.v).div(2)),
        s(quoteVolume.div(2)),
        '0',
      ]);
    }
    return out;
  }

  private account(): unknown {
    return {
      makerCommission: 0,
      takerCommission: 0,
      buyerCommission: 0,
      sellerCommission: 0,
      commissionRates: {
        maker: '0.00000000',
        taker: '0.00000000',
        buyer: '0.00000000',
        seller: '0.00000000',
      },
      canTrade: true,
      canWithdraw: true,
      canDeposit: true,
      brokered: false,
      requireSelfTradePrevention: false,
      preventSor: false,
      updateTime: this.now,
      accountType: 'SPOT',
      balances: [...this.balances.entries()].map(([asset, b]) => ({
        asset,
        free: s(b.free),
        locked: s(b.locked),
      })),
      permissions: ['SPOT'],
      uid: this.uid,
    };
  }

  private decimalParam(req: VenueRequest, name: string): Big | null {
    const v = this.param(req, name);
    if (v === undefined) return null;
    try {
      return new Big(v);
    } catch {
      throw reply(
        400,
        -1100,
        `Illegal characters found in parameter '${name}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`,
      );
    }
  }

  private newOrder(req: VenueRequest): unknown {
    const m = this.marketOf(req) as FakeSpotMarket;
    const side = this.param(req, 'side');
    if (side !== 'BUY' && side !== 'SELL')
      throw reply(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
    const type = this.param(req, 'type') ?? '';
    if (type !== 'MARKET' && type !== 'LIMIT') throw reply(400, -1116, 'Invalid orderType.');
    const cid = this.param(req, 'newClientOrderId') ?? `fake${this.nextOrderId}`;
    if (!/^[.A-Z:/a-z0-9_-]{1,36}$/.test(cid))
      throw reply(400, -1100, "Illegal characters found in parameter 'newClientOrderId'.");
    if (this.orders.some((o) => o.clientOrderId === cid && OPEN.has(o.status)))
      throw reply(400, -2010, 'Duplicate order sent.');
    const price = this.price(m.symbol);
    let qty = this.decimalParam(req, 'quantity');
    const quoteQty = this.decimalParam(req, 'quoteOrderQty');
    let limit: Big | null = null;
    let tif = '';
    if (type === 'LIMIT') {
      limit = this.decimalParam(req, 'price');
      tif = this.param(req, 'timeInForce') ?? '';
      if (!limit)
        throw reply(400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
      if (!['GTC', 'IOC', 'FOK'].includes(tif))
        throw reply(
          400,
          -1102,
          "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        );
      if (!limit.mod(m.tickSize).eq(0)) throw reply(400, -1013, 'Filter failure: PRICE_FILTER');
    }
    if (type === 'MARKET' && !qty && quoteQty)
      qty = quoteQty.div(price).div(m.stepSize).round(0, Big.roundDown).times(m.stepSize);
    if (!qty)
      throw reply(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    if (qty.lt(m.minQty) || !qty.mod(m.stepSize).eq(0)) throw reply(400, -1013, 'Filter failure: LOT_SIZE');
    const value = qty.times(limit ?? price);
    if (value.lt(m.minNotional)) throw reply(400, -1013, 'Filter failure: NOTIONAL');
    if (side === 'BUY' ? this.balance(m.quote).free.lt(value) : this.balance(m.base).free.lt(qty)) {
      throw reply(400, -2010, 'Account has insufficient balance for requested action.');
    }
    const now = this.now;
    const o: FakeBinanceOrder = {
      symbol: m.symbol,
      orderId: this.nextOrderId++,
      orderListId: -1,
      clientOrderId: cid,
      price: s(limit ?? new Big(0)),
      origQty: s(qty),
      executedQty: s(new Big(0)),
      cummulativeQuoteQty: s(new Big(0)),
      status: 'NEW',
      timeInForce: type === 'MARKET' ? 'GTC' : tif,
      type,
      side,
      stopPrice: s(new Big(0)),
      icebergQty: s(new Big(0)),
      time: now,
      updateTime: now,
      isWorking: true,
      workingTime: now,
      origQuoteOrderQty: s(quoteQty ?? new Big(0)),
      selfTradePreventionMode: 'EXPIRE_MAKER',
    };
    // Reserve what the order may spend.
    if (side === 'BUY') this.move(m.quote, value, 'lock');
    else this.move(m.base, qty, 'lock');
    this.orders.push(o);
    const fills = this.evaluate(o);
    return { ...o, transactTime: now, fills };
  }

  private move(asset: string, amount: Big, how: 'lock' | 'unlock'): void {
    const b = this.balance(asset);
    if (how === 'lock') {
      b.free = b.free.minus(amount);
      b.locked = b.locked.plus(amount);
    } else {
      b.free = b.free.plus(amount);
      b.locked = b.locked.minus(amount);
    }
  }

  /** Fills what the price allows; IOC / FOK remainders expire. */
  private evaluate(o: FakeBinanceOrder): unknown[] {
    const price = this.price(o.symbol);
    const marketable = o.type === 'MARKET' || (o.side === 'BUY' ? price.lte(o.price) : price.gte(o.price));
    if (marketable) {
      const left = new Big(o.origQty).minus(o.executedQty);
      return [this.fill(o, left, price)];
    }
    if (o.timeInForce === 'IOC' || o.timeInForce === 'FOK') this.finish(o, 'EXPIRED');
    return [];
  }

  /** Executes `qty` of an open order at `price`. */
  fill(o: FakeBinanceOrder, qty: Big | string, price: Big | string): unknown {
    const q = new Big(qty);
    const p = new Big(price);
    const m = this.markets.get(o.symbol) as FakeSpotMarket;
    const quote = q.times(p);
    if (o.side === 'BUY') {
      // release the reserve at the order's price, pay the fill's
      const reserved = q.times(o.type === 'MARKET' ? p : new Big(o.price));
      this.move(m.quote, reserved, 'unlock');
      this.balance(m.quote).free = this.balance(m.quote).free.minus(quote);
      this.balance(m.base).free = this.balance(m.base).free.plus(q);
    } else {
      this.move(m.base, q, 'unlock');
      this.balance(m.base).free = this.balance(m.base).free.minus(q);
      this.balance(m.quote).free = this.balance(m.quote).free.plus(quote);
    }
    o.executedQty = s(new Big(o.executedQty).plus(q));
    o.cummulativeQuoteQty = s(new Big(o.cummulativeQuoteQty).plus(quote));
    o.status = new Big(o.executedQty).gte(o.origQty) ? 'FILLED' : 'PARTIALLY_FILLED';
    o.isWorking = o.status === 'PARTIALLY_FILLED';
    o.updateTime = this.now;
    return {
      price: s(p),
      qty: s(q),
      commission: s(new Big(0)),
      commissionAsset: m.quote,
      tradeId: this.nextOrderId++,
    };
  }

  /** Ends an open order, releasing what it still reserved. */
  finish(o: FakeBinanceOrder, status: 'CANCELED' | 'EXPIRED' | 'REJECTED'): void {
    const m = this.markets.get(o.symbol) as FakeSpotMarket;
    const left = new Big(o.origQty).minus(o.executedQty);
    if (o.side === 'BUY')
      this.move(m.quote, left.times(o.type === 'MARKET' ? this.price(o.symbol) : new Big(o.price)), 'unlock');
    else this.move(m.base, left, 'unlock');
    o.status = status;
    o.isWorking = false;
    o.updateTime = this.now;
  }

  private lookup(req: VenueRequest, notFound: VenueReply): FakeBinanceOrder {
    const m = this.marketOf(req) as FakeSpotMarket;
    const id = this.param(req, 'orderId');
    const cid = this.param(req, 'origClientOrderId');
    if (!id && !cid)
      throw reply(
        400,
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
      );
    // the newest order with that client id (ids repeat once an order is closed)
    const found = [...this.orders]
      .reverse()
      .find((o) => o.symbol === m.symbol && (id ? String(o.orderId) === id : o.clientOrderId === cid));
    if (!found) throw notFound;
    return found;
  }

  private findOrder(req: VenueRequest): FakeBinanceOrder {
    return this.lookup(req, reply(400, -2013, 'Order does not exist.'));
  }

  private cancel(req: VenueRequest): unknown {
    const o = this.lookup(req, reply(400, -2011, 'Unknown order sent.'));
    if (!OPEN.has(o.status)) throw reply(400, -2011, 'Unknown order sent.');
    this.finish(o, 'CANCELED');
    return { ...o, origClientOrderId: o.clientOrderId };
  }
}
