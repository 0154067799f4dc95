/**
 * The simulated exchange: a complete venue behind the ExchangeAdapter interface, keeping cash,
 * positions, orders and fills in its own tables (0100_sim.sql) and filling orders against the bars
 * stored in Postgres. Deterministic: time is clock().now(), matching depends only on stored bars and
 * order ids, and it needs no timer — every adapter call first catches all open orders up with the bars
 * that completed since the last call (under the account row's lock, so concurrent callers agree).
 */
import type { Sql } from 'postgres';
import { z } from 'zod';
import { clock } from '../../clock/index.ts';
import { env } from '../../config/index.ts';
import { connect, db } from '../../db/client.ts';
import { pgArray } from '../../db/rows.ts';
import { onOneConnection, sendNow, transaction } from '../../db/transaction.ts';
import { DEMO_SEED, DEMO_SYMBOLS, type DemoMarket, demoMarket } from '../../demo/generator.ts';
import {
  abs,
  add,
  cmp,
  dec,
  div,
  fromNumber,
  isPositive,
  isZero,
  max,
  min,
  mul,
  neg,
  round,
  roundDownToStep,
  sub,
  sum,
  toNumber,
} from '../../money/index.ts';
import { bookFill } from '../../pipeline/booking.ts';
import {
  type Account,
  type Bar,
  type OrderClass,
  OrderIntent,
  type OrderStatus,
  type OrderType,
  PositiveDecimal,
  type Side,
  Slug,
  TradingSymbol as SymbolSchema,
  TIMEFRAME_MS,
  TIMEFRAMES,
  type Timeframe,
  type TimeInForce,
} from '../../schemas/index.ts';
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
import { type MatchOrder, matchOnBar } from './matching.ts';

export const SimOptions = z.object({
  /** Adapter name reported on accounts and orders. */
  name: Slug.default('sim'),
  /** One venue account per name; several adapters may share a database. */
  account: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { message: 'must be lower-case letters, digits, "_" or "-"' })
    .default('default'),
  /** Cash a new account starts with. */
  initialCash: PositiveDecimal.default('100000'),
  currency: z
    .string()
    .regex(/^[A-Z]{3,5}$/)
    .default('USD'),
  /** Commission as a fraction of each fill's notional (0.001 = 0.1%), rounded to the cent. */
  feeRate: z.number().min(0).max(0.1).default(0),
  /** Share of a bar's volume one order may take (volume 0 means unknown: no cap). */
  maxVolumeShare: z.number().gt(0).max(1).default(1),
  /** Whether sells beyond the long position (short sales) are accepted. */
  shorting: z.boolean().default(false),
  /** Symbols priced by the demo generator; others use stored bars only. */
  demoSymbols: z.array(SymbolSchema).default([...DEMO_SYMBOLS]),
  seed: z.number().int().default(DEMO_SEED),
  /** Database; defaults to a small pool of the venue's own on DATABASE_URL (see `sql` below). */
  sql: z.custom<Sql>((v) => typeof v === 'function', { message: 'must be a postgres.js client' }).optional(),
});
export type SimOptions = z.input<typeof SimOptions>;
type Options = z.output<typeof SimOptions>;

const OPEN: readonly OrderStatus[] = ['new', 'partially_filled'];
const QTY_STEP = '0.000000001';
const MAX_MATCH_BARS = 5000;

interface OrderRow {
  id: number;
  account: string;
  client_order_id: string;
  symbol: string;
  side: Side;
  type: OrderType;
  time_in_force: TimeInForce;
  qty: string | null;
  notional: string | null;
  limit_price: string | null;
  stop_price: string | null;
  trail_percent: string | null;
  order_class: OrderClass;
  status: OrderStatus;
  filled_qty: string;
  filled_notional: string;
  fee: string;
  match_timeframe: Timeframe;
  after_ts: Date;
  stop_triggered: boolean;
  trail_extreme: number | null;
  matched_through: Date | null;
  expires_at: Date | null;
  reason: string | null;
  submitted_at: Date;
  updated_at: Date;
  filled_at: Date | null;
}

interface BarRow {
  ts: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

interface Holding {
  qty: string;
  avgPrice: string;
}

interface PositionRow {
  symbol: string;
  qty: string;
  avg_entry_price: string;
}

/** What `balances` reads from the tables. */
interface Books {
  positions: PositionRow[];
  open: OrderRow[];
  newest: Map<string, { timeframe: Timeframe; time: number; close: number }>;
}

interface Balances {
  equity: string;
  buyingPower: string;
  open: OrderRow[];
  newest: Map<string, { timeframe: Timeframe; time: number; close: number }>;
}

/** An open order with one bar it may trade on (or none, when it is only due to expire). */
type DueRow = OrderRow & { bar_ts: Date | null; o: number; h: number; l: number; c: number; v: number };

/** One locked pass over the account: cash and positions are read once and written back at the end. */
interface Session {
  tx: Sql;
  now: number;
  cash: string;
  cashChanged: boolean;
  positions: Map<string, Holding>;
  /** Every position of the account is in `positions` (absent = flat). */
  allPositionsLoaded: boolean;
  changedPositions: Set<string>;
  /** The catch-up changed some order (filled, expired, or moved its matching state). */
  changedOrders: boolean;
  /** Sends the session's writes and COMMIT now (behind what was sent): the session ends. */
  finish(): Promise<void>;
}

const iso = (d: Date | number): string => new Date(d).toISOString();

function toExchangeOrder(r: OrderRow): ExchangeOrder {
  return {
    id: `sim-${r.id}`,
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    timeInForce: r.time_in_force,
    qty: r.qty,
    notional: r.notional,
    limitPrice: r.limit_price,
    stopPrice: r.stop_price,
    orderClass: r.order_class,
    status: r.status,
    filledQty: r.filled_qty,
    filledAvgPrice: isZero(r.filled_qty) ? null : div(r.filled_notional, r.filled_qty),
    fee: r.fee,
    submittedAt: iso(r.submitted_at),
    updatedAt: iso(r.updated_at),
    filledAt: r.filled_at ? iso(r.filled_at) : null,
    reason: r.reason,
  };
}

/** Start of the next UTC day: when a `day` order expires on a venue that never closes. */
const nextUtcMidnight = (t: number): number => (Math.floor(t / 86_400_000) + 1) * 86_400_000;

export class SimExchange implements ExchangeAdapter {
  readonly name: string;
  readonly capabilities: ExchangeCapabilities;
  private readonly market: DemoMarket;
  private readonly demo: ReadonlySet<string>;

  constructor(private readonly opts: Options) {
    this.name = opts.name;
    this.market = demoMarket(opts.seed);
    this.demo = new Set(opts.demoSymbols);
    this.capabilities = {
      orderTypes: ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'],
      timeInForce: ['day', 'gtc', 'ioc', 'fok'],
      fractional: true,
      notional: true,
      shorting: opts.shorting,
      alwaysOpen: true,
      uniqueClientOrderIds: true,
      oco: true,
    };
  }

  private pool: Sql | undefined;

  /**
   * The venue's own small pool: callers hold a connection of the process pool in a transaction while
   * they submit (claim-then-submit), so a venue drawing from that same pool could wait forever for a
   * connection its callers hold. A real venue is another process; this keeps it one in effect.
   */
  private get sql(): Sql {
    if (this.opts.sql) return this.opts.sql;
    if (!this.pool) {
      const url = env().DATABASE_URL;
      this.pool = url ? connect(url, { max: 2 }) : db();
      this.ownsPool = Boolean(url);
    }
    return this.pool;
  }

  private ownsPool = false;

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool && this.ownsPool) await pool.end({ timeout: 5 });
  }

  /**
   * Runs `fn` holding the account's lock, after catching open orders up with the stored bars. The lock,
   * the catch-up read and `prefetch` (reads `fn` needs, valid unless the catch-up changed something)
   * travel in one round trip behind BEGIN: the lock is sent first, so the reads run under it. `fn` may
   * end the session with `s.finish()`, sending the session's writes and COMMIT behind its last statement.
   */
  private session<T, P = never>(
    fn: (s: Session, prefetched: P | undefined) => Promise<T>,
    prefetch?: (tx: Sql, now: number) => Promise<P>,
  ): Promise<T> {
    const now = clock().now();
    const account = this.opts.account;
    return transaction(
      this.sql,
      async (tx, control) => {
        const lock = () =>
          tx<{ cash: string }[]>`SELECT cash FROM sim_accounts WHERE account = ${account} FOR UPDATE`;
        const locked = sendNow(lock());
        const due = sendNow(this.dueOrders(tx, now));
        const early = prefetch?.(tx, now);
        early?.catch(() => {}); // awaited below unless the session failed first
        let [row] = await locked;
        if (!row) {
          // First use of this account: open it (a concurrent first caller may win; either way it exists).
          await tx`
          INSERT INTO sim_accounts (account, currency, cash, initial_cash)
          VALUES (${account}, ${this.opts.currency}, ${this.opts.initialCash}, ${this.opts.initialCash})
          ON CONFLICT (account) DO NOTHING`;
          [row] = await lock();
        }
        let finished = false;
        const s: Session = {
          tx,
          now,
          cash: row.cash,
          cashChanged: false,
          positions: new Map(),
          allPositionsLoaded: false,
          changedPositions: new Set(),
          changedOrders: false,
          finish: async () => {
            finished = true;
            await Promise.all([this.flush(s), control.commit()]);
          },
        };
        await this.catchUp(s, await due);
        const prefetched = early === undefined ? undefined : await early;
        // Reads taken before the catch-up moved orders, cash or positions are stale: fn reads again.
        const fresh = !s.changedOrders && !s.cashChanged && s.changedPositions.size === 0;
        const result = await fn(s, fresh ? prefetched : undefined);
        if (!finished) await this.flush(s);
        return result;
      },
      // No wait for the disk: the venue is deterministic, so fills a PostgreSQL crash loses are matched
      // again from the same bars, and an order it loses is one the claim's lookup then finds missing
      // (and submits again).
      { synchronousCommit: false },
    );
  }

  private async holding(s: Session, symbol: string): Promise<Holding> {
    let h = s.positions.get(symbol);
    if (!h && s.allPositionsLoaded) h = { qty: '0', avgPrice: '0' };
    if (!h) {
      const [row] = await s.tx<{ qty: string; avg_entry_price: string }[]>`
        SELECT qty, avg_entry_price FROM sim_positions WHERE account = ${this.opts.account} AND symbol = ${symbol}`;
      h = row ? { qty: row.qty, avgPrice: row.avg_entry_price } : { qty: '0', avgPrice: '0' };
      s.positions.set(symbol, h);
    }
    return h;
  }

  /** Writes what the session changed: sent at once (in order, behind what was sent), one round trip. */
  private flush(s: Session): Promise<unknown> {
    const account = this.opts.account;
    const writes: Promise<unknown>[] = [];
    if (s.cashChanged)
      writes.push(sendNow(s.tx`UPDATE sim_accounts SET cash = ${s.cash} WHERE account = ${account}`));
    for (const symbol of s.changedPositions) {
      const h = s.positions.get(symbol)!;
      writes.push(
        sendNow(
          isZero(h.qty)
            ? s.tx`DELETE FROM sim_positions WHERE account = ${account} AND symbol = ${symbol}`
            : s.tx`
                INSERT INTO sim_positions (account, symbol, qty, avg_entry_price)
                VALUES (${account}, ${symbol}, ${h.qty}, ${h.avgPrice})
                ON CONFLICT (account, symbol) DO UPDATE SET qty = EXCLUDED.qty, avg_entry_price = EXCLUDED.avg_entry_price`,
        ),
      );
    }
    return Promise.all(writes);
  }

  // ---- matching -------------------------------------------------------------------------------

  /**
   * One round trip for every open order: the bars each may trade on (newer than the newest stored at
   * submission and than the last bar it was matched against, still open when it arrived, complete by
   * now — a bar's high and low are only known once it closed — and before a day order's expiry), plus
   * the orders due to expire. Orders with neither are not returned and cost nothing.
   */
  private dueOrders(tx: Sql, now: number) {
    return tx<DueRow[]>`
      SELECT so.*, b.ts AS bar_ts, b.open AS o, b.high AS h, b.low AS l, b.close AS c, b.volume AS v
      FROM sim_orders so
      JOIN (VALUES ${tx(TIMEFRAMES.map((tf) => [tf, TIMEFRAME_MS[tf]]))}) AS tf(name, ms) ON tf.name = so.match_timeframe
      LEFT JOIN LATERAL (
        SELECT ts, open, high, low, close, volume FROM bars
        WHERE bars.symbol = so.symbol AND bars.timeframe = so.match_timeframe
          AND ts > GREATEST(so.after_ts, COALESCE(so.matched_through, so.after_ts),
                            so.submitted_at - tf.ms::int8 * interval '1 millisecond')
          AND ts <= ${new Date(now)}::timestamptz - tf.ms::int8 * interval '1 millisecond'
          AND (so.expires_at IS NULL OR ts < so.expires_at)
        ORDER BY ts
        LIMIT ${MAX_MATCH_BARS}
      ) b ON true
      WHERE so.account = ${this.opts.account} AND so.status IN ${tx(OPEN as OrderStatus[])}
        AND (b.ts IS NOT NULL OR so.expires_at <= ${new Date(now)})
      ORDER BY so.id, b.ts`;
  }

  private async catchUp(s: Session, rows: readonly DueRow[]): Promise<void> {
    let i = 0;
    while (i < rows.length) {
      const order = rows[i];
      const bars: BarRow[] = [];
      for (; i < rows.length && rows[i].id === order.id; i++) {
        const r = rows[i];
        if (r.bar_ts) bars.push({ ts: r.bar_ts, open: r.o, high: r.h, low: r.l, close: r.c, volume: r.v });
      }
      await this.matchOrder(s, order, bars);
    }
  }

  private async matchOrder(s: Session, o: OrderRow, bars: readonly BarRow[]): Promise<void> {
    const expires = o.expires_at?.getTime() ?? null;
    const state: MatchOrder = {
      side: o.side,
      type: o.type,
      limitPrice: o.limit_price === null ? null : toNumber(o.limit_price),
      stopPrice: o.stop_price === null ? null : toNumber(o.stop_price),
      trailPercent: o.trail_percent === null ? null : toNumber(o.trail_percent),
      triggered: o.stop_triggered,
      trailExtreme: o.trail_extreme,
      oco: o.order_class === 'oco',
    };
    let status = o.status;
    let reason = o.reason;
    let updatedAt = o.updated_at.getTime();
    let filledAt = o.filled_at?.getTime() ?? null;
    let filledQty = o.filled_qty;
    let filledNotional = o.filled_notional;
    let fee = o.fee;
    let matchedThrough = o.matched_through?.getTime() ?? null;

    for (const bar of bars) {
      const barTime = bar.ts.getTime();
      matchedThrough = barTime;
      const r = matchOnBar(state, bar);
      state.triggered = r.triggered;
      state.trailExtreme = r.trailExtreme;
      if (r.price !== null) {
        const price =
          r.atLevel === 'limit'
            ? o.limit_price!
            : r.atLevel === 'stop' && o.stop_price
              ? o.stop_price
              : fromNumber(r.price);
        const at = Math.max(barTime, o.submitted_at.getTime());
        const remainingQty = o.qty !== null ? sub(o.qty, filledQty) : null;
        let qty: string;
        if (remainingQty !== null) {
          const cap =
            bar.volume > 0
              ? roundDownToStep(fromNumber(bar.volume * this.opts.maxVolumeShare), QTY_STEP)
              : remainingQty;
          qty = min(remainingQty, cap);
          if (o.time_in_force === 'fok' && cmp(qty, remainingQty) < 0) {
            status = 'canceled';
            reason = `fill or kill: only ${qty} of ${remainingQty} available on the bar`;
            updatedAt = at;
            break;
          }
        } else {
          // Notional orders spend what is left of the amount in one fill.
          qty = roundDownToStep(div(sub(o.notional!, filledNotional), price, 12), QTY_STEP);
        }
        const refusal = isPositive(qty) ? await this.affordable(s, o, qty, price) : 'quantity rounds to zero';
        if (refusal) {
          status = 'canceled';
          reason = refusal;
          updatedAt = at;
          break;
        }
        const fillFee = this.feeOf(qty, price);
        await this.applyFill(s, o, qty, price, fillFee, barTime, at);
        filledQty = add(filledQty, qty);
        filledNotional = add(filledNotional, mul(qty, price));
        fee = add(fee, fillFee);
        updatedAt = at;
        const done = o.qty !== null ? cmp(filledQty, o.qty) >= 0 : true;
        if (done) {
          status = 'filled';
          filledAt = at;
          break;
        }
        status = 'partially_filled';
      }
      if (o.time_in_force === 'ioc' || o.time_in_force === 'fok') {
        // Immediate orders get the first bar after submission and nothing else.
        status = 'canceled';
        reason =
          r.price === null ? 'not marketable on the first bar' : 'remainder canceled (immediate or cancel)';
        updatedAt = Math.max(barTime, o.submitted_at.getTime());
        break;
      }
    }
    if ((status === 'new' || status === 'partially_filled') && expires !== null && s.now >= expires) {
      status = 'expired';
      reason = 'day order expired at the end of the UTC day';
      updatedAt = expires;
    }
    const changed =
      status !== o.status ||
      matchedThrough !== (o.matched_through?.getTime() ?? null) ||
      state.triggered !== o.stop_triggered ||
      state.trailExtreme !== o.trail_extreme;
    if (!changed) return;
    s.changedOrders = true;
    await s.tx`
      UPDATE sim_orders SET status = ${status}, reason = ${reason}, filled_qty = ${filledQty},
        filled_notional = ${filledNotional}, fee = ${fee}, stop_triggered = ${state.triggered},
        trail_extreme = ${state.trailExtreme}, matched_through = ${matchedThrough === null ? null : new Date(matchedThrough)},
        updated_at = ${new Date(updatedAt)}, filled_at = ${filledAt === null ? null : new Date(filledAt)}
      WHERE id = ${o.id}`;
  }

  private feeOf(qty: string, price: string): string {
    return this.opts.feeRate > 0 ? round(mul(mul(qty, price), fromNumber(this.opts.feeRate)), 2) : '0';
  }

  /** Why a fill cannot happen now (cash for a buy, holdings for a sale without shorting), or null. */
  private async affordable(s: Session, o: OrderRow, qty: string, price: string): Promise<string | null> {
    const h = await this.holding(s, o.symbol);
    if (o.side === 'buy') {
      // Covering a short releases what the short sale credited; only the part that opens a long needs cash.
      const opening = isPositive(neg(h.qty)) ? max(sub(qty, abs(h.qty)), '0') : qty;
      const cost = add(mul(opening, price), this.feeOf(qty, price));
      return cmp(cost, s.cash) > 0
        ? `insufficient buying power at fill (needs ${cost}, cash ${s.cash})`
        : null;
    }
    if (!this.opts.shorting && cmp(qty, h.qty) > 0) {
      return `insufficient qty at fill (selling ${qty}, holding ${h.qty})`;
    }
    return null;
  }

  private async applyFill(
    s: Session,
    o: OrderRow,
    qty: string,
    price: string,
    fee: string,
    barTime: number,
    at: number,
  ): Promise<void> {
    await s.tx`
      INSERT INTO sim_fills (order_id, qty, price, fee, bar_ts, at)
      VALUES (${o.id}, ${qty}, ${price}, ${fee}, ${new Date(barTime)}, ${new Date(at)})`;
    const notional = mul(qty, price);
    s.cash = sub(o.side === 'buy' ? sub(s.cash, notional) : add(s.cash, notional), fee);
    s.cashChanged = true;
    const h = await this.holding(s, o.symbol);
    const booked = bookFill(h, o.side, qty, price);
    s.positions.set(o.symbol, { qty: booked.qty, avgPrice: booked.avgPrice });
    s.changedPositions.add(o.symbol);
  }

  // ---- prices ---------------------------------------------------------------------------------

  /**
   * Per symbol, the newest bar complete at `now` of whichever stored timeframe is most current (ties go
   * to the finer one): what matching trades against and what positions are marked to.
   */
  private async newestBars(
    tx: Sql,
    symbols: readonly string[],
    now: number,
    /** Also every symbol the account holds or has open orders in (found by the query itself). */
    withBooks = false,
  ): Promise<Map<string, { timeframe: Timeframe; time: number; close: number }>> {
    const out = new Map<string, { timeframe: Timeframe; time: number; close: number }>();
    if (symbols.length === 0 && !withBooks) return out;
    const account = this.opts.account;
    const named = tx`SELECT unnest(${pgArray(symbols as string[])}::text[])`;
    const set = withBooks
      ? tx`${named} UNION SELECT symbol FROM sim_positions WHERE account = ${account}
           UNION SELECT symbol FROM sim_orders WHERE account = ${account} AND status IN ${tx(OPEN as OrderStatus[])}`
      : named;
    const rows = await tx<{ symbol: string; timeframe: Timeframe; t: number; close: number }[]>`
      SELECT s.symbol, tf.timeframe, (extract(epoch FROM b.ts) * 1000)::float8 AS t, b.close
      FROM (${set}) AS s(symbol)
      CROSS JOIN unnest(${pgArray([...TIMEFRAMES])}::text[], ${pgArray(TIMEFRAMES.map((t) => TIMEFRAME_MS[t]))}::int8[])
        AS tf(timeframe, ms)
      CROSS JOIN LATERAL (
        SELECT ts, close FROM bars
        WHERE bars.symbol = s.symbol AND bars.timeframe = tf.timeframe
          AND ts <= ${new Date(now)}::timestamptz - tf.ms * interval '1 millisecond'
        ORDER BY ts DESC LIMIT 1
      ) b`;
    for (const r of rows) {
      const end = r.t + TIMEFRAME_MS[r.timeframe];
      const best = out.get(r.symbol);
      const bestEnd = best ? best.time + TIMEFRAME_MS[best.timeframe] : -1;
      const finer = best ? TIMEFRAME_MS[r.timeframe] < TIMEFRAME_MS[best.timeframe] : true;
      if (!best || end > bestEnd || (end === bestEnd && finer)) {
        out.set(r.symbol, { timeframe: r.timeframe, time: r.t, close: r.close });
      }
    }
    return out;
  }

  /** Latest price per symbol: stored bars first, the demo generator for demo symbols without any. */
  private async prices(
    tx: Sql,
    symbols: readonly string[],
    now: number,
    newestOut?: Map<string, { timeframe: Timeframe; time: number; close: number }>,
  ): Promise<Map<string, string>> {
    const newest = await this.newestBars(tx, symbols, now);
    if (newestOut) for (const [k, v] of newest) newestOut.set(k, v);
    return this.pricesFrom(newest, symbols, now);
  }

  private pricesFrom(
    newest: ReadonlyMap<string, { close: number }>,
    symbols: readonly string[],
    now: number,
  ): Map<string, string> {
    const out = new Map<string, string>();
    for (const sym of symbols) {
      const b = newest.get(sym);
      if (b) out.set(sym, fromNumber(b.close));
      else if (this.demo.has(sym))
        out.set(sym, fromNumber(this.market.latestCompleted(sym, '1Min', now).close));
    }
    return out;
  }

  // ---- account --------------------------------------------------------------------------------

  /** Every non-flat position, read once per session (what this session changed wins over the table). */
  private async allHoldings(s: Session): Promise<Map<string, Holding>> {
    if (!s.allPositionsLoaded) this.loadPositions(s, await this.positionRows(s.tx));
    return this.holdingsOf(s);
  }

  private positionRows(tx: Sql): Promise<PositionRow[]> {
    return tx<PositionRow[]>`
      SELECT symbol, qty, avg_entry_price FROM sim_positions WHERE account = ${this.opts.account}`;
  }

  /** The table's positions into the session, where the session has not changed them. */
  private loadPositions(s: Session, rows: readonly PositionRow[]): void {
    for (const r of rows) {
      if (!s.positions.has(r.symbol)) s.positions.set(r.symbol, { qty: r.qty, avgPrice: r.avg_entry_price });
    }
    s.allPositionsLoaded = true;
  }

  private holdingsOf(s: Session): Map<string, Holding> {
    const all = new Map<string, Holding>();
    for (const symbol of [...s.positions.keys()].sort()) {
      const h = s.positions.get(symbol)!;
      if (!isZero(h.qty)) all.set(symbol, h);
    }
    return all;
  }

  private async openOrderRows(s: Session | { tx: Sql }): Promise<OrderRow[]> {
    return s.tx<OrderRow[]>`
      SELECT * FROM sim_orders WHERE account = ${this.opts.account} AND status IN ${s.tx(OPEN as OrderStatus[])}
      ORDER BY id`;
  }

  /**
   * Everything `balances` reads, in one round trip: positions, open orders and the newest bars of every
   * symbol they and `also` name (the query finds the symbols itself). Valid for a session whose
   * catch-up changed nothing.
   */
  private async readBooks(tx: Sql, now: number, also: readonly string[]): Promise<Books> {
    const [positions, open, newest] = await Promise.all([
      this.positionRows(tx),
      this.openOrderRows({ tx }),
      this.newestBars(tx, also, now, true),
    ]);
    return { positions, open, newest };
  }

  /** Cash the account could commit to a new order now: equity less gross exposure and open buy orders. */
  private async balances(s: Session, also: readonly string[] = [], books?: Books): Promise<Balances> {
    let holdings: Map<string, Holding>;
    let open: OrderRow[];
    let newest: Map<string, { timeframe: Timeframe; time: number; close: number }>;
    let symbols: string[];
    if (books) {
      this.loadPositions(s, books.positions);
      holdings = this.holdingsOf(s);
      open = books.open;
      newest = books.newest;
      symbols = [...new Set([...holdings.keys(), ...open.map((o) => o.symbol), ...also])];
    } else {
      [holdings, open] = await Promise.all([this.allHoldings(s), this.openOrderRows(s)]);
      symbols = [...new Set([...holdings.keys(), ...open.map((o) => o.symbol), ...also])];
      newest = await this.newestBars(s.tx, symbols, s.now);
    }
    const prices = this.pricesFrom(newest, symbols, s.now);
    const priceOf = (symbol: string, fallback: string): string => prices.get(symbol) ?? fallback;
    let equity = s.cash;
    let exposure = '0';
    for (const [symbol, h] of holdings) {
      const value = mul(h.qty, priceOf(symbol, h.avgPrice));
      equity = add(equity, value);
      exposure = add(exposure, abs(value));
    }
    const reserved = sum(
      open
        .filter((o) => o.side === 'buy')
        .map((o) =>
          o.notional !== null
            ? sub(o.notional, o.filled_notional)
            : mul(sub(o.qty!, o.filled_qty), o.limit_price ?? o.stop_price ?? priceOf(o.symbol, '0')),
        ),
    );
    return { equity, buyingPower: max(sub(sub(equity, exposure), reserved), '0'), open, newest };
  }

  async getAccount(): Promise<Account> {
    return this.session(async (s) => {
      const b = await this.balances(s);
      return {
        exchange: this.name,
        accountId: this.opts.account,
        currency: this.opts.currency,
        cash: s.cash,
        equity: b.equity,
        buyingPower: b.buyingPower,
        dayPnl: null,
        at: iso(s.now),
      };
    });
  }

  async getPositions(): Promise<ExchangePosition[]> {
    return this.session(async (s) => {
      const holdings = await this.allHoldings(s);
      const prices = await this.prices(s.tx, [...holdings.keys()], s.now);
      return [...holdings].map(([symbol, h]) => {
        const price = prices.get(symbol) ?? null;
        return {
          symbol,
          qty: h.qty,
          avgEntryPrice: h.avgPrice,
          currentPrice: price,
          marketValue: price === null ? null : mul(h.qty, price),
          unrealizedPnl: price === null ? null : mul(h.qty, sub(price, h.avgPrice)),
        };
      });
    });
  }

  // ---- orders ---------------------------------------------------------------------------------

  async submitOrder(input: OrderIntent): Promise<ExchangeOrder> {
    const parsed = OrderIntent.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ExchangeError('invalid_order', `${issue.path.join('.') || 'order'}: ${issue.message}`, 422);
    }
    const o = parsed.data;
    if (!this.capabilities.timeInForce.includes(o.timeInForce)) {
      throw new ExchangeError(
        'invalid_order',
        `time_in_force ${o.timeInForce} is not supported by ${this.name}`,
        422,
      );
    }
    if (o.notional !== undefined && o.type !== 'market') {
      throw new ExchangeError('invalid_order', 'notional orders must be market orders', 422);
    }
    const duplicate = async (tx: Sql): Promise<boolean> =>
      (
        await tx`SELECT 1 FROM sim_orders WHERE account = ${this.opts.account} AND client_order_id = ${o.clientOrderId}`
      ).length > 0;
    // The duplicate check and the account's books are read with the lock and the catch-up.
    const prefetch = async (tx: Sql, now: number) => {
      const [dup, books] = await Promise.all([duplicate(tx), this.readBooks(tx, now, [o.symbol])]);
      return { dup, books };
    };
    return this.session(async (s, pre) => {
      const [dup, b] = pre
        ? [pre.dup, await this.balances(s, [o.symbol], pre.books)]
        : await Promise.all([duplicate(s.tx), this.balances(s, [o.symbol])]);
      if (dup) throw new ExchangeError('duplicate_client_order_id', 'client_order_id must be unique', 422);

      const newest = b.newest.get(o.symbol);
      if (!newest && !this.demo.has(o.symbol)) {
        throw new ExchangeError('unknown_symbol', `asset "${o.symbol}" not found`, 422);
      }
      const lastPrice = newest
        ? fromNumber(newest.close)
        : fromNumber(this.market.latestCompleted(o.symbol, '1Min', s.now).close);
      if (o.orderClass === 'oco') {
        // As Alpaca: an exit whose take-profit and stop lie on either side of the market.
        const [tp, stop] = [o.limitPrice!, o.stopPrice!];
        const sell = o.side === 'sell';
        const wrong = sell
          ? cmp(tp, lastPrice) <= 0
            ? `take-profit limit ${tp} must be above the market (${lastPrice})`
            : cmp(stop, lastPrice) >= 0
              ? `stop ${stop} must be below the market (${lastPrice})`
              : null
          : cmp(tp, lastPrice) >= 0
            ? `take-profit limit ${tp} must be below the market (${lastPrice})`
            : cmp(stop, lastPrice) <= 0
              ? `stop ${stop} must be above the market (${lastPrice})`
              : null;
        if (wrong) throw new ExchangeError('invalid_order', `oco order: ${wrong}`, 422);
      }
      const estPrice = o.limitPrice ?? o.stopPrice ?? lastPrice;
      const qty = o.qty ?? div(o.notional!, estPrice);
      const h = await this.holding(s, o.symbol);
      if (o.side === 'buy') {
        const opening = isPositive(neg(h.qty)) ? max(sub(qty, abs(h.qty)), '0') : qty;
        const cost = o.notional ?? mul(opening, estPrice);
        if (cmp(add(cost, this.feeOf(qty, estPrice)), b.buyingPower) > 0) {
          throw new ExchangeError(
            'insufficient_funds',
            `insufficient buying power (needs ${cost}, available ${b.buyingPower})`,
            403,
          );
        }
      } else {
        const openSells = b.open
          .filter((r) => r.symbol === o.symbol && r.side === 'sell' && r.qty !== null)
          .map((r) => sub(r.qty!, r.filled_qty));
        const available = max(sub(h.qty, sum(openSells)), '0');
        if (cmp(qty, available) > 0) {
          if (!this.opts.shorting) {
            throw new ExchangeError(
              'insufficient_funds',
              `insufficient qty available for order (requested: ${qty}, available: ${available})`,
              403,
            );
          }
          const shortValue = mul(sub(qty, available), estPrice);
          if (cmp(shortValue, b.buyingPower) > 0) {
            throw new ExchangeError(
              'insufficient_funds',
              `insufficient buying power to short (needs ${shortValue})`,
              403,
            );
          }
        }
      }
      // Orders on a symbol with no stored bars yet (a demo symbol before its first fetch) wait for 1Min bars.
      const timeframe = newest?.timeframe ?? '1Min';
      const afterTs = newest ? newest.time : s.now - TIMEFRAME_MS[timeframe];
      // The order, the session's writes and the COMMIT in one round trip.
      const inserted = sendNow(s.tx<OrderRow[]>`
        INSERT INTO sim_orders (account, client_order_id, symbol, side, type, time_in_force, qty, notional,
          limit_price, stop_price, trail_percent, order_class, status, match_timeframe, after_ts, trail_extreme, expires_at,
          submitted_at, updated_at)
        VALUES (${this.opts.account}, ${o.clientOrderId}, ${o.symbol}, ${o.side}, ${o.type}, ${o.timeInForce},
          ${o.qty ?? null}, ${o.notional ?? null}, ${o.limitPrice ?? null}, ${o.stopPrice ?? null},
          ${o.trailPercent ?? null}, ${o.orderClass ?? 'simple'}, 'new', ${timeframe}, ${new Date(afterTs)},
          ${o.type === 'trailing_stop' ? toNumber(lastPrice) : null},
          ${o.timeInForce === 'day' ? new Date(nextUtcMidnight(s.now)) : null},
          ${new Date(s.now)}, ${new Date(s.now)})
        RETURNING *`);
      await s.finish();
      const [row] = await inserted;
      return toExchangeOrder(row);
    }, prefetch);
  }

  async getOrderByClientId(clientOrderId: string): Promise<ExchangeOrder | null> {
    const read = async (sql: Sql): Promise<ExchangeOrder | null> => {
      const [row] = await sql<OrderRow[]>`
        SELECT * FROM sim_orders WHERE account = ${this.opts.account} AND client_order_id = ${clientOrderId}`;
      return row ? toExchangeOrder(row) : null;
    };
    // Usually nothing is due to fill or expire (the last call caught up): then the order as stored is
    // the answer, read in one round trip without the account's lock. Otherwise catch up first.
    const [due, order] = await onOneConnection(this.sql, (conn) =>
      Promise.all([this.dueOrders(conn, clock().now()), read(conn)]),
    );
    if (due.length === 0) return order;
    return this.session((s) => read(s.tx));
  }

  async cancelOrder(orderId: string): Promise<void> {
    const m = /^sim-(\d{1,15})$/.exec(orderId);
    if (!m) throw new ExchangeError('not_found', `order ${orderId} not found`, 404);
    await this.session(async (s) => {
      const [row] = await s.tx<OrderRow[]>`
        SELECT * FROM sim_orders WHERE account = ${this.opts.account} AND id = ${Number(m[1])}`;
      if (!row) throw new ExchangeError('not_found', `order ${orderId} not found`, 404);
      if (!OPEN.includes(row.status)) {
        throw new ExchangeError('invalid_order', `order is already in "${row.status}" state`, 422);
      }
      await s.tx`
        UPDATE sim_orders SET status = 'canceled', reason = 'canceled by request', updated_at = ${new Date(s.now)}
        WHERE id = ${row.id}`;
    });
  }

  async getOpenOrders(): Promise<ExchangeOrder[]> {
    return this.session(async (s) => (await this.openOrderRows(s)).map(toExchangeOrder));
  }

  // ---- market data ----------------------------------------------------------------------------

  async *getBars(req: BarsRequest): AsyncIterable<Bar[]> {
    const tfMs = TIMEFRAME_MS[req.timeframe];
    const now = clock().now();
    const start = Date.parse(req.start);
    const requestedEnd = req.end ? Date.parse(req.end) : now;
    if (Number.isNaN(start) || Number.isNaN(requestedEnd)) {
      throw new ExchangeError('invalid_order', 'start and end must be ISO instants', 422);
    }
    // Only bars complete at `now`: the simulated market never shows the future.
    const end = Math.min(requestedEnd, now - tfMs);
    const pageSize = Math.max(1, Math.min(req.pageSize ?? 1000, 10_000));
    if (this.demo.has(req.symbol)) {
      for (let from = start; from <= end; ) {
        const to = Math.min(end, from + (pageSize - 1) * tfMs);
        const page = this.market.bars(req.symbol, req.timeframe, from, to);
        if (page.length) yield page;
        from = to + 1;
      }
      return;
    }
    let after = new Date(start - 1);
    for (;;) {
      const rows = await this.sql<BarRow[]>`
        SELECT ts, open, high, low, close, volume FROM bars
        WHERE symbol = ${req.symbol} AND timeframe = ${req.timeframe} AND ts > ${after} AND ts <= ${new Date(end)}
        ORDER BY ts LIMIT ${pageSize}`;
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        symbol: req.symbol,
        timeframe: req.timeframe,
        time: iso(r.ts),
        open: r.open,
        high: r.high,
        low: r.low,
        close: r.close,
        volume: r.volume,
      }));
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1].ts;
    }
  }

  async getLatestBars(symbols: readonly string[], timeframe: Timeframe): Promise<Bar[]> {
    const now = clock().now();
    const tfMs = TIMEFRAME_MS[timeframe];
    const out: Bar[] = [];
    const stored = symbols.filter((s) => !this.demo.has(s));
    const rows = stored.length
      ? await this.sql<(BarRow & { symbol: string })[]>`
          SELECT s.symbol, b.* FROM unnest(${pgArray(stored)}::text[]) AS s(symbol)
          CROSS JOIN LATERAL (
            SELECT ts, open, high, low, close, volume FROM bars
            WHERE bars.symbol = s.symbol AND bars.timeframe = ${timeframe} AND ts <= ${new Date(now - tfMs)}
            ORDER BY ts DESC LIMIT 1
          ) b`
      : [];
    const bySymbol = new Map(rows.map((r) => [r.symbol, r]));
    for (const symbol of symbols) {
      if (this.demo.has(symbol)) {
        out.push(this.market.latestCompleted(symbol, timeframe, now));
        continue;
      }
      const r = bySymbol.get(symbol);
      if (r) {
        out.push({
          symbol,
          timeframe,
          time: iso(r.ts),
          open: r.open,
          high: r.high,
          low: r.low,
          close: r.close,
          volume: r.volume,
        });
      }
    }
    return out;
  }

  async getClock(): Promise<MarketClock> {
    return { timestamp: iso(clock().now()), isOpen: true, nextOpen: null, nextClose: null };
  }

  async getCalendar(start: string, end: string): Promise<CalendarDay[]> {
    const day = /^\d{4}-\d{2}-\d{2}$/;
    if (!day.test(start) || !day.test(end)) {
      throw new ExchangeError('invalid_order', 'calendar dates must be YYYY-MM-DD', 422);
    }
    const from = Date.parse(`${start}T00:00:00Z`);
    const to = Date.parse(`${end}T00:00:00Z`);
    const out: CalendarDay[] = [];
    for (let t = from; t <= to && out.length < 3700; t += 86_400_000) {
      out.push({ date: iso(t).slice(0, 10), open: iso(t), close: iso(t + 86_400_000) });
    }
    return out;
  }

  async isTradable(symbol: string): Promise<boolean> {
    if (this.demo.has(symbol)) return true;
    const [row] = await this.sql`SELECT 1 FROM bars WHERE symbol = ${symbol} LIMIT 1`;
    return Boolean(row);
  }
}

/** The registry's factory: validates options (zod) and builds the adapter. */
export function createSimExchange(options: Record<string, unknown> = {}): SimExchange {
  const parsed = SimOptions.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`sim exchange options: ${issue.path.join('.')}: ${issue.message}`);
  }
  return new SimExchange(parsed.data);
}

/** Decimal helper for tests and tools: the sim's cash, exactly as stored. */
export async function simCash(sql: Sql, account = 'default'): Promise<string | null> {
  const [row] = await sql<{ cash: string }[]>`SELECT cash FROM sim_accounts WHERE account = ${account}`;
  return row ? dec(row.cash) : null;
}
