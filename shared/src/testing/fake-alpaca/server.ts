/**
 * A fake Alpaca: a real HTTP server on 127.0.0.1 answering the documented paths of the Trading API and
 * the Market Data API with the JSON the SDK's own serialisers produce. Tests point the real SDK at it
 * (explicit basePath) and can make any route answer 429 / 500, respond slowly or drop the connection,
 * before or after the request took effect.
 */
import { marketData, trading } from '@alpacahq/alpaca-trade-api/rest';
import { TIMEFRAMES, type Timeframe } from '../../schemas/index.ts';
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
import { FakeMarket } from './market.ts';
import { type FakeAsset, FakeTrading } from './trading.ts';

export type { Fault, FaultMode, RequestRecord } from '../fake-venue/index.ts';

/** Trading and stock-data routes need the key headers; crypto data works without them. */
type Auth = 'required' | 'optional';

export interface FakeAlpacaOptions {
  keyId?: string;
  secretKey?: string;
  cash?: string;
  /** The venue's clock (ms); default: a fixed instant inside a session (2024-03-05 15:00Z). */
  now?: number | (() => number);
  assets?: FakeAsset[];
}

const DEFAULT_ASSETS: FakeAsset[] = [
  { symbol: 'AAPL', crypto: false, fractionable: true },
  { symbol: 'MSFT', crypto: false, fractionable: true },
  { symbol: 'SPY', crypto: false, fractionable: true },
  { symbol: 'BRK.B', crypto: false, fractionable: true },
  { symbol: 'GME', crypto: false, fractionable: false },
  {
    symbol: 'BTC/USD',
    crypto: true,
    fractionable: true,
    minOrderSize: '0.0001',
    minTradeIncrement: '0.000000001',
    priceIncrement: '1',
  },
  {
    symbol: 'ETH/USD',
    crypto: true,
    fractionable: true,
    minOrderSize: '0.001',
    minTradeIncrement: '0.000000001',
    priceIncrement: '0.1',
  },
];

const ERROR_CODES: Record<number, [number, string]> = {
  400: [40010000, 'bad request'],
  401: [40110000, 'request is not authorized'],
  403: [40310000, 'forbidden'],
  404: [40410000, 'not found'],
  422: [40010001, 'unprocessable entity'],
  429: [42910000, 'rate limit exceeded'],
  500: [50010000, 'internal server error'],
  502: [50210000, 'bad gateway'],
  503: [50310000, 'service unavailable'],
  504: [50410000, 'gateway timeout'],
};

const isoDate = (v: string | null): string | null => {
  if (!v) return null;
  const t = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  return Number.isNaN(t) ? null : new Date(t).toISOString().slice(0, 10);
};

export class FakeAlpaca extends FakeVenue<Auth> {
  readonly market: FakeMarket;
  readonly trading: FakeTrading;
  readonly keyId: string;
  readonly secretKey: string;
  private clockMs: number;
  private clockFn: (() => number) | null;

  constructor(opts: FakeAlpacaOptions = {}) {
    super();
    this.keyId = testSecret(opts.keyId ?? 'PKFAKEKEYID0001');
    this.secretKey = testSecret(opts.secretKey ?? 'fake-secret-key-0001-abcdef');
    this.clockFn = typeof opts.now === 'function' ? opts.now : null;
    this.clockMs = typeof opts.now === 'number' ? opts.now : Date.parse('2024-03-05T15:00:00Z');
    this.market = new FakeMarket(() => (this.clockFn ? this.clockFn() : this.clockMs));
    this.trading = new FakeTrading(this.market, opts.cash ?? '100000');
    for (const a of opts.assets ?? DEFAULT_ASSETS) this.trading.addAsset(a);
  }

  static async start(opts: FakeAlpacaOptions = {}): Promise<FakeAlpaca> {
    const f = new FakeAlpaca(opts);
    await f.listen();
    return f;
  }

  /** The variables that make Weaver trade on this fake (keys from env, not mounted secrets). */
  env(): Record<string, string> {
    return {
      WEAVER_EXCHANGE: 'alpaca',
      APCA_API_KEY_ID: this.keyId,
      APCA_API_SECRET_KEY: this.secretKey,
      WEAVER_ALPACA_TRADING_URL: this.url,
      WEAVER_ALPACA_DATA_URL: this.url,
      WEAVER_SECRETS_DIR: '/nonexistent',
    };
  }

  // ---- controls -----------------------------------------------------------------------------------

  get now(): number {
    return this.market.now();
  }

  /** Moves the venue's clock and re-evaluates open orders (an open bell fills queued market orders). */
  setNow(t: number | string): void {
    this.clockFn = null;
    this.clockMs = new Date(t).getTime();
    this.trading.tick();
  }

  /** Sets a symbol's price and lets open orders react to it. */
  setPrice(symbol: string, price: number): void {
    this.market.prices.set(symbol, price);
    this.trading.tick();
  }

  /** Orders the venue holds, optionally those with one client order id. */
  orders(clientOrderId?: string): trading.Order[] {
    return this.trading.orders.filter(
      (o) => clientOrderId === undefined || o.clientOrderId === clientOrderId,
    );
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  protected override baseHeaders(): Record<string, string> {
    return {
      'x-request-id': Math.random().toString(16).slice(2),
      'x-ratelimit-limit': '200',
      'x-ratelimit-remaining': '199',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60),
    };
  }

  protected override errorAnswer(status: number, message?: string, fault?: Fault): VenueAnswer {
    const [code, m] = ERROR_CODES[status] ?? [status * 100000, 'error'];
    const headers: Record<string, string> = {};
    if (status === 429) {
      // As Alpaca: the bucket is empty until the reset instant (epoch seconds); Retry-After only when asked.
      headers['x-ratelimit-remaining'] = '0';
      headers['x-ratelimit-reset'] = String(Math.ceil(Date.now() / 1000) + (fault?.retryAfterS ?? 1));
      if (fault?.retryAfterS !== undefined) headers['retry-after'] = String(fault.retryAfterS);
    }
    return { status, body: { code, message: message ?? m }, headers };
  }

  protected override replyAnswer(r: VenueReply): VenueAnswer {
    return { status: r.status, body: { code: r.code, message: r.message } };
  }

  protected override authorize(r: VenueRoute<Auth>, req: VenueRequest): VenueAnswer | null {
    const keyId = req.headers['apca-api-key-id'];
    const secret = req.headers['apca-api-secret-key'];
    const presented = keyId !== undefined || secret !== undefined;
    if ((r.auth === 'required' || presented) && (keyId !== this.keyId || secret !== this.secretKey)) {
      return this.errorAnswer(401);
    }
    return null;
  }

  // ---- routes -------------------------------------------------------------------------------------

  protected override routes(): VenueRoute<Auth>[] {
    const t = this.trading;
    const ok = (body: unknown) => ({ status: 200, body });
    return [
      route('GET /v2/account', 'required', () => ok(trading.AccountToJSON(t.account()))),
      route('GET /v2/positions', 'required', () =>
        ok(t.positionList().map((p) => trading.PositionToJSON(p))),
      ),
      route('GET /v2/positions/{symbol}', 'required', ({ params }) => {
        const a = t.asset(params.symbol);
        return ok(trading.PositionToJSON(t.position(a?.symbol ?? params.symbol.toUpperCase())));
      }),
      route('GET /v2/orders', 'required', ({ query }) =>
        ok(t.listOrders(query).map((o) => trading.OrderToJSON(o))),
      ),
      route('POST /v2/orders', 'required', ({ body }) => ok(trading.OrderToJSON(t.submit(body)))),
      route('DELETE /v2/orders', 'required', () => ({ status: 207, body: t.cancelAll() })),
      route('GET /v2/orders:by_client_order_id', 'required', ({ query }) =>
        ok(trading.OrderToJSON(t.orderByClientId(query.get('client_order_id') ?? ''))),
      ),
      route('GET /v2/orders/{id}', 'required', ({ params }) => ok(trading.OrderToJSON(t.order(params.id)))),
      route('DELETE /v2/orders/{id}', 'required', ({ params }) => {
        t.cancel(params.id);
        return { status: 204 };
      }),
      route('GET /v2/clock', 'required', () => {
        const c = this.market.clock();
        return ok(
          trading.LegacyClockToJSON({
            timestamp: new Date(this.now),
            isOpen: c.isOpen,
            nextOpen: new Date(c.nextOpen),
            nextClose: new Date(c.nextClose),
          }),
        );
      }),
      route('GET /v2/calendar', 'required', ({ query }) => {
        const start = isoDate(query.get('start')) ?? '2023-01-01';
        const end = isoDate(query.get('end')) ?? '2025-12-31';
        return ok(
          this.market.sessions(start, end).map((s) =>
            trading.LegacyCalendarDayToJSON({
              date: new Date(`${s.date}T00:00:00Z`),
              open: s.open,
              close: s.close,
              sessionOpen: '0400',
              sessionClose: '2000',
              settlementDate: new Date(`${s.date}T00:00:00Z`),
            }),
          ),
        );
      }),
      route('GET /v2/assets', 'required', ({ query }) => {
        const cls = query.get('asset_class');
        const list = [...t.assets.values()].filter((a) => !cls || (cls === 'crypto' ? a.crypto : !a.crypto));
        return ok(list.map((a) => trading.AssetsToJSON(this.assetModel(a))));
      }),
      route('GET /v2/assets/{symbol}', 'required', ({ params }) => {
        const a = t.asset(params.symbol);
        if (!a) throw new VenueReply(404, 40410000, 'asset not found');
        return ok(trading.AssetsToJSON(this.assetModel(a)));
      }),
      route('GET /v2/stocks/bars', 'required', ({ query }) => ok(this.bars(query, false))),
      route('GET /v2/stocks/bars/latest', 'required', ({ query }) => ok(this.latestBars(query, false))),
      route('GET /v1beta3/crypto/{loc}/bars', 'optional', ({ query }) => ok(this.bars(query, true))),
      route('GET /v1beta3/crypto/{loc}/latest/bars', 'optional', ({ query }) =>
        ok(this.latestBars(query, true)),
      ),
    ];
  }

  private assetModel(a: FakeAsset & { id: string }): trading.Assets {
    return {
      id: a.id,
      _class: a.crypto ? 'crypto' : 'us_equity',
      exchange: a.crypto ? 'CRYPTO' : 'NASDAQ',
      symbol: a.symbol,
      name: a.symbol,
      status: 'active',
      tradable: a.tradable ?? true,
      marginable: !a.crypto,
      shortable: false,
      easyToBorrow: false,
      fractionable: a.fractionable,
      minOrderSize: a.minOrderSize,
      minTradeIncrement: a.minTradeIncrement,
      priceIncrement: a.priceIncrement,
    } as trading.Assets;
  }

  private parseBarsQuery(query: URLSearchParams, crypto: boolean) {
    const symbols = (query.get('symbols') ?? '')
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean);
    if (!symbols.length) throw new VenueReply(400, 40010000, 'symbols is required');
    const tf = query.get('timeframe') as Timeframe | null;
    if (tf !== null && !(TIMEFRAMES as readonly string[]).includes(tf)) {
      throw new VenueReply(400, 40010000, `invalid timeframe "${tf}"`);
    }
    const feed = query.get('feed');
    if (!crypto && feed !== null && !['iex', 'sip', 'otc', 'boats'].includes(feed)) {
      throw new VenueReply(400, 40010000, `invalid feed "${feed}"`);
    }
    return { symbols, tf: tf ?? '1Min' };
  }

  /** Historical bars: sorted by symbol then time, `limit` across symbols, next_page_token to continue. */
  private bars(query: URLSearchParams, crypto: boolean): unknown {
    const { symbols, tf } = this.parseBarsQuery(query, crypto);
    const limit = Math.min(Math.max(Number(query.get('limit') ?? 1000) || 1000, 1), 10_000);
    const startQ = query.get('start');
    const endQ = query.get('end');
    const now = this.now;
    const start = startQ
      ? Date.parse(startQ)
      : Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`);
    const end = endQ ? Date.parse(endQ) : now;
    if (Number.isNaN(start) || Number.isNaN(end)) throw new VenueReply(400, 40010000, 'invalid start or end');
    let from: { symbol: string; t: number } | null = null;
    const token = query.get('page_token');
    if (token) {
      const [symbol, t] = Buffer.from(token, 'base64').toString('utf8').split('|');
      if (!symbol || !t) throw new VenueReply(400, 40010000, 'invalid page_token');
      from = { symbol, t: Number(t) };
    }
    const desc = query.get('sort') === 'desc';
    const bars: Record<string, unknown[]> = {};
    let count = 0;
    let next: string | null = null;
    const sorted = [...symbols].sort();
    outer: for (const symbol of sorted) {
      if (from && symbol < from.symbol) continue;
      const resume = from && symbol === from.symbol ? from.t : null;
      let times: Iterable<number>;
      if (desc) {
        const all = [...this.market.slots(symbol, tf, start, resume ?? end)];
        times = all.reverse();
      } else {
        times = this.market.slots(symbol, tf, resume === null ? start : Math.max(start, resume), end);
      }
      for (const t of times) {
        if (count === limit) {
          next = Buffer.from(`${symbol}|${t}`).toString('base64');
          break outer;
        }
        const b = this.market.bar(symbol, tf, t);
        const list = bars[symbol] ?? [];
        list.push({ ...b, t: new Date(b.t) });
        bars[symbol] = list;
        count++;
      }
    }
    if (crypto) {
      return marketData.CryptoBarsRespToJSON({ bars: bars as never, nextPageToken: next });
    }
    return marketData.StockBarsRespToJSON({ bars: bars as never, nextPageToken: next, currency: 'USD' });
  }

  private latestBars(query: URLSearchParams, crypto: boolean): unknown {
    const { symbols } = this.parseBarsQuery(query, crypto);
    const out: Record<string, unknown> = {};
    for (const symbol of symbols) {
      let last: number | null = null;
      for (const t of this.market.slots(symbol, '1Min', this.now - 7 * 86_400_000, this.now)) last = t;
      if (last === null) continue;
      const b = this.market.bar(symbol, '1Min', last);
      out[symbol] = { ...b, t: new Date(b.t) };
    }
    if (crypto) return marketData.CryptoLatestBarsRespToJSON({ bars: out as never });
    return marketData.StockLatestBarsRespToJSON({ bars: out as never, currency: 'USD' });
  }
}
