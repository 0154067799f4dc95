/**
 * The fake venue's trading engine: one cash account, assets, orders and positions, with Alpaca's
 * validation rules and error answers. Models are the SDK's generated types, so what the server writes
 * is exactly what the SDK's own serialisers produce.
 */
import { randomUUID } from 'node:crypto';
import type { trading } from '@alpacahq/alpaca-trade-api/rest';
import Big from 'big.js';
import { VenueReply } from '../fake-venue/index.ts';
import type { FakeMarket } from './market.ts';

const reply = (status: number, code: number, message: string): VenueReply =>
  new VenueReply(status, code, message);

export interface FakeAsset {
  symbol: string;
  crypto: boolean;
  fractionable: boolean;
  tradable?: boolean;
  minOrderSize?: string;
  minTradeIncrement?: string;
  priceIncrement?: string;
}

interface Holding {
  qty: Big;
  cost: Big;
}

const OPEN = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'pending_cancel', 'held']);
const TIFS = new Set(['day', 'gtc', 'opg', 'cls', 'ioc', 'fok']);
const TYPES = new Set(['market', 'limit', 'stop', 'stop_limit', 'trailing_stop']);
/** The order classes this fake takes (Alpaca also has bracket, oto and mleg). */
const CLASSES = new Set(['simple', 'oco']);

const decimal = (v: unknown): Big | null => {
  if (v === undefined || v === null || v === '') return null;
  try {
    const b = new Big(String(v));
    return b;
  } catch {
    return null;
  }
};
const str = (b: Big): string => b.toString();
const isWhole = (b: Big): boolean => b.eq(b.round(0, Big.roundDown));
const field = (v: unknown, key: string): unknown =>
  v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
const isOpen = (o: trading.Order): boolean => OPEN.has(o.status ?? '');

export class FakeTrading {
  readonly accountId = randomUUID();
  readonly accountNumber = `PA${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
  cash: Big;
  lastEquity: Big;
  readonly assets = new Map<string, FakeAsset & { id: string }>();
  /** Every order ever accepted, in submission order. */
  readonly orders: trading.Order[] = [];
  readonly byClientId = new Map<string, trading.Order>();
  readonly positions = new Map<string, Holding>();
  /**
   * OCO groups: the parent (the take-profit limit, in `orders`) by the id of its stop-loss leg, and the
   * legs by id. Legs are not in `orders`: the venue lists them under their parent (`nested=true`).
   */
  private readonly parentOf = new Map<string, trading.Order>();
  private readonly legsById = new Map<string, trading.Order>();

  constructor(
    private readonly market: FakeMarket,
    cash: string,
  ) {
    this.cash = new Big(cash);
    this.lastEquity = new Big(cash);
  }

  addAsset(a: FakeAsset): void {
    this.assets.set(a.symbol, { tradable: true, ...a, id: randomUUID() });
  }

  asset(symbolOrId: string): (FakeAsset & { id: string }) | undefined {
    const s = symbolOrId.toUpperCase();
    const direct = this.assets.get(s);
    if (direct) return direct;
    for (const a of this.assets.values()) {
      if (a.id === symbolOrId || a.symbol.replace('/', '') === s) return a;
    }
    return undefined;
  }

  private now(): Date {
    return new Date(this.market.now());
  }

  marketValue(): Big {
    let v = new Big(0);
    for (const [sym, h] of this.positions) v = v.plus(h.qty.times(this.market.currentPrice(sym)));
    return v;
  }

  account(): trading.Account {
    const mv = this.marketValue();
    const equity = this.cash.plus(mv);
    return {
      id: this.accountId,
      accountNumber: this.accountNumber,
      status: 'ACTIVE',
      cryptoStatus: 'ACTIVE',
      currency: 'USD',
      cash: str(this.cash),
      buyingPower: str(this.buyingPower()),
      nonMarginableBuyingPower: str(this.buyingPower()),
      regtBuyingPower: str(this.buyingPower()),
      equity: str(equity),
      lastEquity: str(this.lastEquity),
      portfolioValue: str(equity),
      longMarketValue: str(mv),
      shortMarketValue: '0',
      multiplier: '1',
      patternDayTrader: false,
      tradingBlocked: false,
      transfersBlocked: false,
      accountBlocked: false,
      shortingEnabled: false,
      createdAt: new Date('2023-01-03T14:00:00Z'),
    } as trading.Account;
  }

  /** Cash minus what open buy orders have reserved. */
  buyingPower(): Big {
    let reserved = new Big(0);
    for (const o of this.orders) {
      if (!this.isLive(o) || o.side !== 'buy') continue;
      reserved = reserved.plus(this.remainingValue(o));
    }
    const bp = this.cash.minus(reserved);
    return bp.lt(0) ? new Big(0) : bp;
  }

  private remainingValue(o: trading.Order): Big {
    if (this.isOcoParent(o)) {
      // A buy OCO (covering a short) reserves its dearest leg once.
      const left = new Big(o.qty ?? '0').minus(this.groupFilled(o));
      let price = new Big(o.limitPrice ?? '0');
      for (const leg of this.legsOf(o)) {
        for (const p of [leg.stopPrice, leg.limitPrice]) if (p && price.lt(p)) price = new Big(p);
      }
      return left.times(price);
    }
    if (o.notional)
      return new Big(o.notional).minus(new Big(o.filledQty ?? '0').times(o.filledAvgPrice ?? '0'));
    const left = new Big(o.qty ?? '0').minus(o.filledQty ?? '0');
    const price = o.limitPrice ?? o.stopPrice ?? String(this.market.currentPrice(o.symbol ?? ''));
    return left.times(price);
  }

  positionList(): trading.Position[] {
    return [...this.positions.entries()].filter(([, h]) => !h.qty.eq(0)).map(([s, h]) => this.position(s, h));
  }

  position(symbol: string, h = this.positions.get(symbol)): trading.Position {
    if (!h || h.qty.eq(0)) throw reply(404, 40410000, 'position does not exist');
    const a = this.asset(symbol);
    const price = new Big(this.market.currentPrice(symbol));
    const mv = h.qty.times(price);
    const avg = h.cost.div(h.qty);
    return {
      assetId: a?.id ?? randomUUID(),
      // Alpaca reports crypto positions without the slash.
      symbol: symbol.replace('/', ''),
      exchange: a?.crypto ? 'CRYPTO' : 'NASDAQ',
      assetClass: a?.crypto ? 'crypto' : 'us_equity',
      assetMarginable: !a?.crypto,
      avgEntryPrice: str(avg.round(6)),
      qty: str(h.qty),
      qtyAvailable: str(h.qty),
      side: h.qty.gt(0) ? 'long' : 'short',
      marketValue: str(mv.round(6)),
      costBasis: str(h.cost.round(6)),
      unrealizedPl: str(mv.minus(h.cost).round(6)),
      unrealizedPlpc: h.cost.eq(0) ? '0' : str(mv.minus(h.cost).div(h.cost).round(6)),
      unrealizedIntradayPl: '0',
      unrealizedIntradayPlpc: '0',
      currentPrice: str(price),
      lastdayPrice: str(price),
      changeToday: '0',
    } as trading.Position;
  }

  /** Sets a holding directly (to create drift between Weaver's books and the venue). */
  setPosition(symbol: string, qty: string, avgPrice: string): void {
    const q = new Big(qty);
    this.positions.set(symbol, { qty: q, cost: q.times(avgPrice) });
  }

  order(id: string): trading.Order {
    const o = this.orders.find((x) => x.id === id) ?? this.legsById.get(id);
    if (!o) throw reply(404, 40410000, 'order not found');
    return o;
  }

  // ---- OCO groups -----------------------------------------------------------------------------

  /** True for the parent (take-profit limit) of an OCO pair. */
  isOcoParent(o: trading.Order): boolean {
    return o.orderClass === 'oco' && !!o.legs?.length && !this.parentOf.has(o.id ?? '');
  }

  /** An OCO parent's legs (the stop-loss), as this fake's order objects. */
  legsOf(parent: trading.Order): trading.Order[] {
    return (parent.legs ?? []).map((l) => this.legsById.get(l.id ?? '')).filter((l) => l !== undefined);
  }

  /** The parent and its legs; a simple order alone. */
  private members(o: trading.Order): trading.Order[] {
    const parent = this.parentOf.get(o.id ?? '') ?? o;
    return this.isOcoParent(parent) ? [parent, ...this.legsOf(parent)] : [o];
  }

  /** What an OCO group has filled, over all its legs (one quantity, committed once). */
  private groupFilled(parent: trading.Order): Big {
    return this.members(parent).reduce((t, m) => t.plus(m.filledQty ?? '0'), new Big(0));
  }

  /** Open: a simple order by its status, an OCO group while any leg is working. */
  private isLive(o: trading.Order): boolean {
    return this.members(o).some(isOpen);
  }

  orderByClientId(cid: string): trading.Order {
    const o = this.byClientId.get(cid);
    if (!o) throw reply(404, 40410000, 'order not found');
    return o;
  }

  listOrders(q: URLSearchParams): trading.Order[] {
    const status = q.get('status') ?? 'open';
    const limit = Math.min(Number(q.get('limit') ?? 50) || 50, 500);
    const symbols = q
      .get('symbols')
      ?.split(',')
      .map((s) => s.trim().toUpperCase());
    const after = q.get('after') ? Date.parse(q.get('after') as string) : null;
    const until = q.get('until') ? Date.parse(q.get('until') as string) : null;
    // As Alpaca: `nested=true` rolls legs up under their parent; otherwise every leg is its own entry.
    const nested = q.get('nested') === 'true';
    const entries = nested
      ? this.orders
      : this.orders.flatMap((o) => (this.isOcoParent(o) ? [{ ...o, legs: null }, ...this.legsOf(o)] : [o]));
    let list = entries.filter((o) => {
      const open = nested ? this.isLive(o) : isOpen(o);
      if (status === 'open' && !open) return false;
      if (status === 'closed' && open) return false;
      if (symbols && !symbols.includes(o.symbol ?? '')) return false;
      const t = o.createdAt?.getTime() ?? 0;
      if (after !== null && t <= after) return false;
      if (until !== null && t >= until) return false;
      return true;
    });
    list = q.get('direction') === 'asc' ? list : [...list].reverse();
    return list.slice(0, limit);
  }

  /** POST /v2/orders, with Alpaca's rules. */
  submit(body: Record<string, unknown>): trading.Order {
    const symbol = typeof body.symbol === 'string' ? body.symbol.toUpperCase() : '';
    if (!symbol) throw reply(422, 40010001, 'symbol is required');
    const asset = this.asset(symbol);
    if (!asset) throw reply(422, 40010001, `asset "${symbol}" not found`);
    if (!asset.tradable) throw reply(422, 40010001, `asset "${symbol}" is not tradable`);
    const side = body.side;
    if (side !== 'buy' && side !== 'sell') throw reply(422, 40010001, 'side must be buy or sell');
    const type = String(body.type ?? '');
    if (!TYPES.has(type)) throw reply(422, 40010001, `invalid order type "${type}"`);
    const tif = String(body.time_in_force ?? '');
    if (!TIFS.has(tif)) throw reply(422, 40010001, `invalid time_in_force "${tif}"`);
    const orderClass =
      body.order_class === undefined || body.order_class === '' ? 'simple' : body.order_class;
    if (typeof orderClass !== 'string' || !CLASSES.has(orderClass))
      throw reply(422, 40010001, `order_class "${String(orderClass)}" is not supported`);
    const oco = orderClass === 'oco';
    const cid =
      typeof body.client_order_id === 'string' && body.client_order_id ? body.client_order_id : randomUUID();
    if (cid.length > 128) throw reply(422, 40010001, 'client_order_id must be at most 128 characters');
    if (this.byClientId.has(cid)) throw reply(422, 40010001, 'client_order_id must be unique');
    const qty = decimal(body.qty);
    const notional = decimal(body.notional);
    if ((qty === null) === (notional === null))
      throw reply(422, 40010001, 'qty or notional is required, not both');
    if (qty?.lte(0) || notional?.lte(0)) throw reply(422, 40010001, 'qty must be > 0');
    // OCO: an exit for a held position. The parent is the take-profit limit; the stop-loss is its leg.
    const takeProfit = oco ? decimal(field(body.take_profit, 'limit_price')) : null;
    const stopLoss = oco ? decimal(field(body.stop_loss, 'stop_price')) : null;
    const stopLossLimit = oco ? decimal(field(body.stop_loss, 'limit_price')) : null;
    if (oco) {
      if (type !== 'limit') throw reply(422, 40010001, 'oco orders must be limit orders');
      if (tif !== 'day' && tif !== 'gtc') throw reply(422, 40010001, 'oco orders must be day or gtc orders');
      if (!takeProfit?.gt(0))
        throw reply(422, 40010001, 'take_profit.limit_price is required for oco orders');
      if (!stopLoss?.gt(0)) throw reply(422, 40010001, 'stop_loss.stop_price is required for oco orders');
      if (stopLossLimit?.lte(0)) throw reply(422, 40010001, 'stop_loss.limit_price must be > 0');
      if (notional) throw reply(422, 40010001, 'oco orders require qty, not notional');
      if (asset.crypto) throw reply(422, 40010001, 'oco orders are not supported for crypto');
      if (qty && !isWhole(qty)) throw reply(422, 40010001, 'oco orders must be for whole shares');
      const given = decimal(body.limit_price);
      if (given && !given.eq(takeProfit))
        throw reply(422, 40010001, 'limit_price must equal take_profit.limit_price for oco orders');
      if (decimal(body.stop_price)) throw reply(422, 40010001, 'oco orders take stop_loss.stop_price');
    }
    const limit = oco ? takeProfit : decimal(body.limit_price);
    const stop = oco ? null : decimal(body.stop_price);
    const trailPercent = decimal(body.trail_percent);
    const trailPrice = decimal(body.trail_price);
    if ((type === 'limit' || type === 'stop_limit') && !limit)
      throw reply(422, 40010001, 'limit_price is required');
    if ((type === 'stop' || type === 'stop_limit') && !stop)
      throw reply(422, 40010001, 'stop_price is required');
    if (type === 'trailing_stop' && !trailPercent && !trailPrice) {
      throw reply(422, 40010001, 'trail_price or trail_percent is required');
    }
    const fractional = (qty !== null && !isWhole(qty)) || notional !== null;
    if (asset.crypto) {
      if (tif !== 'gtc' && tif !== 'ioc') throw reply(422, 40010001, 'invalid crypto time_in_force');
      if (type === 'stop' || type === 'trailing_stop')
        throw reply(422, 40010001, `${type} orders are not supported for crypto`);
      if (qty && asset.minOrderSize && qty.lt(asset.minOrderSize)) {
        throw reply(422, 40010001, `qty must be >= ${asset.minOrderSize}`);
      }
    } else if (fractional) {
      if (!asset.fractionable)
        throw reply(422, 40010001, 'fractional orders are not supported for this asset');
      if (tif !== 'day') throw reply(422, 40010001, 'fractional orders must be DAY orders');
      if (type === 'trailing_stop')
        throw reply(422, 40010001, 'fractional trailing_stop orders are not supported');
      if (notional && type !== 'market') throw reply(422, 40010001, 'notional orders must be market orders');
      if (notional?.lt(1)) throw reply(422, 40010001, 'notional must be at least 1');
    }
    const price = new Big(this.market.currentPrice(symbol));
    if (takeProfit && stopLoss) {
      // Neither leg may be marketable on arrival: a sell's take-profit above the price and its stop below.
      const sell = side === 'sell';
      if (sell ? !takeProfit.gt(price) : !takeProfit.lt(price)) {
        throw reply(
          422,
          40010001,
          `take_profit.limit_price must be ${sell ? '>' : '<'} ${price} (the current price) for a ${side} oco order`,
        );
      }
      if (sell ? !stopLoss.lt(price) : !stopLoss.gt(price)) {
        throw reply(
          422,
          40010001,
          `stop_loss.stop_price must be ${sell ? '<' : '>'} ${price} (the current price) for a ${side} oco order`,
        );
      }
    }
    if (side === 'buy') {
      if (oco) {
        // A buy OCO closes a short position: it may not buy more than is short.
        const short = (this.positions.get(symbol)?.qty ?? new Big(0)).times(-1);
        const available = short.gt(0) ? short : new Big(0);
        if ((qty as Big).gt(available)) {
          throw reply(
            403,
            40310000,
            `insufficient qty available for order (requested: ${qty}, available: ${available})`,
          );
        }
      }
      let dearest = limit ?? stop ?? price;
      for (const p of [stopLoss, stopLossLimit]) if (p?.gt(dearest)) dearest = p;
      const cost = notional ?? (qty as Big).times(dearest);
      if (cost.gt(this.buyingPower())) throw reply(403, 40310000, 'insufficient buying power');
    } else {
      const held = this.positions.get(symbol)?.qty ?? new Big(0);
      let committed = new Big(0);
      for (const o of this.orders) {
        if (o.symbol === symbol && o.side === 'sell' && this.isLive(o)) {
          // An OCO pair commits its quantity once, less what either leg has filled.
          const filled = this.isOcoParent(o) ? this.groupFilled(o) : new Big(o.filledQty ?? '0');
          committed = committed.plus(new Big(o.qty ?? '0').minus(filled));
        }
      }
      const wanted = qty ?? (notional as Big).div(price);
      const available = held.minus(committed);
      if (wanted.gt(available)) {
        throw reply(
          403,
          40310000,
          `insufficient qty available for order (requested: ${wanted}, available: ${available})`,
        );
      }
    }
    const now = this.now();
    const marketOpen = asset.crypto || this.market.clock().isOpen;
    const order: trading.Order = {
      id: randomUUID(),
      clientOrderId: cid,
      createdAt: now,
      updatedAt: now,
      submittedAt: now,
      filledAt: null,
      expiredAt: null,
      canceledAt: null,
      failedAt: null,
      replacedAt: null,
      replacedBy: null,
      replaces: null,
      assetId: asset.id,
      symbol: asset.symbol,
      assetClass: asset.crypto ? 'crypto' : 'us_equity',
      notional: notional ? str(notional) : null,
      qty: qty ? str(qty) : null,
      filledQty: '0',
      filledAvgPrice: null,
      orderClass: oco ? 'oco' : 'simple',
      orderType: type,
      type: type as trading.OrderType,
      side,
      timeInForce: tif as trading.TimeInForce,
      limitPrice: limit ? str(limit) : null,
      stopPrice: stop ? str(stop) : null,
      trailPercent: trailPercent ? str(trailPercent) : null,
      trailPrice: trailPrice ? str(trailPrice) : null,
      hwm: type === 'trailing_stop' ? str(price) : null,
      status: marketOpen ? 'new' : 'accepted',
      extendedHours: false,
      legs: null,
    };
    if (oco) {
      const legType = stopLossLimit ? 'stop_limit' : 'stop';
      const leg: trading.Order = {
        ...order,
        id: randomUUID(),
        clientOrderId: randomUUID(),
        orderType: legType,
        type: legType,
        limitPrice: stopLossLimit ? str(stopLossLimit) : null,
        stopPrice: str(stopLoss as Big),
        hwm: null,
        legs: null,
      };
      order.legs = [leg as trading.OrderLeg];
      this.legsById.set(leg.id as string, leg);
      this.parentOf.set(leg.id as string, order);
      this.byClientId.set(leg.clientOrderId as string, leg);
    }
    this.orders.push(order);
    this.byClientId.set(cid, order);
    if (marketOpen) this.evaluate(order, price);
    return order;
  }

  /** Fills what the current price allows; unfilled IOC/FOK orders are canceled. */
  evaluate(o: trading.Order, price = new Big(this.market.currentPrice(o.symbol ?? ''))): void {
    const parent = this.parentOf.get(o.id ?? '') ?? o;
    if (this.isOcoParent(parent)) {
      this.evaluateOco(parent, price);
      return;
    }
    if (!OPEN.has(o.status ?? '')) return;
    const fillPrice = this.marketablePrice(o, price);
    if (fillPrice) {
      const total = o.notional
        ? new Big(o.notional).div(fillPrice).round(9, Big.roundDown)
        : new Big(o.qty as string);
      this.fill(o, str(total.minus(o.filledQty ?? '0')), str(fillPrice));
      return;
    }
    if (o.timeInForce === 'ioc' || o.timeInForce === 'fok') this.finish(o, 'canceled');
  }

  /**
   * An OCO pair: the stop-loss leg is checked first (pessimistic: a bar that touches both prices stops
   * out), then the take-profit; the leg that trades fills what the group has left and cancels the other.
   */
  private evaluateOco(parent: trading.Order, price: Big): void {
    for (const m of [...this.legsOf(parent), parent]) {
      if (!isOpen(m)) continue;
      const fillPrice = this.marketablePrice(m, price);
      if (!fillPrice) continue;
      const left = new Big(parent.qty as string).minus(this.groupFilled(parent));
      if (left.gt(0)) this.fill(m, str(left), str(fillPrice));
      return;
    }
  }

  /** The price an open order trades at now, or null when it cannot (updates a trailing stop). */
  private marketablePrice(o: trading.Order, price: Big): Big | null {
    let fillPrice: Big | null = null;
    const buy = o.side === 'buy';
    switch (o.type) {
      case 'market':
        fillPrice = price;
        break;
      case 'limit':
        if (buy ? price.lte(o.limitPrice as string) : price.gte(o.limitPrice as string)) fillPrice = price;
        break;
      case 'stop':
        if (buy ? price.gte(o.stopPrice as string) : price.lte(o.stopPrice as string)) fillPrice = price;
        break;
      case 'stop_limit': {
        const triggered = buy ? price.gte(o.stopPrice as string) : price.lte(o.stopPrice as string);
        const marketable = buy ? price.lte(o.limitPrice as string) : price.gte(o.limitPrice as string);
        if (triggered && marketable) fillPrice = price;
        break;
      }
      case 'trailing_stop': {
        const hwm = new Big(o.hwm ?? price);
        const newHwm = buy ? (price.lt(hwm) ? price : hwm) : price.gt(hwm) ? price : hwm;
        o.hwm = str(newHwm);
        const trail = o.trailPercent ? newHwm.times(o.trailPercent).div(100) : new Big(o.trailPrice ?? '0');
        const stop = buy ? newHwm.plus(trail) : newHwm.minus(trail);
        o.stopPrice = str(stop.round(4));
        if (buy ? price.gte(stop) : price.lte(stop)) fillPrice = price;
        break;
      }
    }
    return fillPrice;
  }

  /** Executes `qty` of an open order at `price` (a partial fill when less than what is left). */
  fill(o: trading.Order, qty: string, price: string): void {
    if (!OPEN.has(o.status ?? '')) throw new Error(`order ${o.id} is ${o.status}, not open`);
    const q = new Big(qty);
    const p = new Big(price);
    const prevQty = new Big(o.filledQty ?? '0');
    const prevAvg = new Big(o.filledAvgPrice ?? '0');
    const newQty = prevQty.plus(q);
    o.filledAvgPrice = str(prevQty.times(prevAvg).plus(q.times(p)).div(newQty).round(6));
    o.filledQty = str(newQty);
    const h = this.positions.get(o.symbol as string) ?? { qty: new Big(0), cost: new Big(0) };
    if (o.side === 'buy') {
      h.qty = h.qty.plus(q);
      h.cost = h.cost.plus(q.times(p));
      this.cash = this.cash.minus(q.times(p));
    } else {
      const avg = h.qty.eq(0) ? p : h.cost.div(h.qty);
      h.qty = h.qty.minus(q);
      h.cost = h.qty.eq(0) ? new Big(0) : h.cost.minus(q.times(avg));
      this.cash = this.cash.plus(q.times(p));
    }
    this.positions.set(o.symbol as string, h);
    const group = this.members(o);
    const parent = group[0];
    const oco = group.length > 1;
    // An OCO pair is done when its legs together filled its one quantity; then the other leg is canceled.
    const target = o.notional ? newQty : new Big((oco ? parent : o).qty as string);
    const done = o.notional ? true : (oco ? this.groupFilled(parent) : newQty).gte(target);
    o.status = done ? 'filled' : 'partially_filled';
    o.updatedAt = this.now();
    if (done) o.filledAt = this.now();
    if (done && oco) for (const m of group) if (m !== o && isOpen(m)) this.finish(m, 'canceled');
  }

  finish(o: trading.Order, status: 'canceled' | 'expired' | 'rejected' | 'done_for_day'): void {
    o.status = status;
    o.updatedAt = this.now();
    if (status === 'canceled') o.canceledAt = this.now();
    if (status === 'expired') o.expiredAt = this.now();
    if (status === 'rejected') o.failedAt = this.now();
  }

  /** DELETE /v2/orders/{id}. Canceling an OCO parent (or its leg) cancels the whole group. */
  cancel(id: string): void {
    const o = this.order(id);
    const open = this.members(o).filter(isOpen);
    if (!open.length) throw reply(422, 42210000, `order is already in "${o.status}" state`);
    for (const m of open) this.finish(m, 'canceled');
  }

  cancelAll(): { id: string; status: number }[] {
    const out: { id: string; status: number }[] = [];
    for (const o of this.orders) {
      for (const m of this.members(o)) {
        if (isOpen(m)) {
          this.finish(m, 'canceled');
          out.push({ id: m.id as string, status: 200 });
        }
      }
    }
    return out;
  }

  /** Re-evaluates every open order against the current prices (after a price move or the open). */
  tick(): void {
    const clockOpen = this.market.clock().isOpen;
    for (const o of this.orders) {
      if (!this.isLive(o)) continue;
      const a = this.asset(o.symbol ?? '');
      if (!a?.crypto && !clockOpen) continue;
      for (const m of this.members(o)) if (m.status === 'accepted') m.status = 'new';
      this.evaluate(o);
    }
  }
}
