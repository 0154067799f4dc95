/**
 * The lists of orders, trades and signals: newest first, keyset pages over (time, id), filtered by book,
 * symbol, side and time range. One implementation for every caller: the API sends `list*Json`'s text as
 * it is; `list*` parses the same page into objects (strategy detail, tests, scripts).
 */
import type { Sql } from 'postgres';
import {
  FINAL_ORDER_STATUSES,
  type Order,
  type OrderStatus,
  type Side,
  type Signal,
  type SignalStatus,
  type Trade,
} from '../schemas/index.ts';
import {
  and,
  type Fields,
  type JsonPage,
  jsonObjectSql,
  jsonPage,
  parsePage,
  timeCursor,
  timeKeyed,
} from './json-page.ts';
import { type Page, pageSize } from './keyset.ts';
import { pgArray } from './rows.ts';

/** What every trading list filters on, and its page. `from` / `to` are inclusive ISO instants. */
export interface TradingListFilter {
  strategy?: string;
  symbol?: string;
  side?: Side;
  from?: string;
  to?: string;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
  /** Page size, 1…500 (default 50). */
  limit?: number;
}

export interface OrderListFilter extends TradingListFilter {
  /** Any of these: an exact status, `open` (not final yet) or `closed` (final). */
  status?: readonly (OrderStatus | 'open' | 'closed')[];
}

export interface SignalListFilter extends TradingListFilter {
  status?: SignalStatus;
}

const ORDER: Fields = [
  ['id', 'id', 'int'],
  ['clientOrderId', 'client_order_id', 'text'],
  ['exchange', 'exchange', 'text'],
  ['exchangeOrderId', 'exchange_order_id', 'text'],
  ['strategy', 'strategy', 'text'],
  ['signalId', 'signal_id', 'int'],
  ['symbol', 'symbol', 'text'],
  ['side', 'side', 'text'],
  ['type', 'type', 'text'],
  ['timeInForce', 'time_in_force', 'text'],
  ['qty', 'qty', 'decimal'],
  ['notional', 'notional', 'decimal'],
  ['limitPrice', 'limit_price', 'decimal'],
  ['stopPrice', 'stop_price', 'decimal'],
  ['trailPercent', 'trail_percent', 'decimal'],
  ['orderClass', 'order_class', 'text'],
  ['protective', 'protective', 'bool'],
  ['stopRule', 'stop_rule', 'text'],
  ['status', 'status', 'text'],
  ['filledQty', 'filled_qty', 'decimal'],
  ['filledAvgPrice', 'filled_avg_price', 'decimal'],
  ['errorCode', 'error_code', 'text'],
  ['errorMessage', 'error_message', 'text'],
  ['createdAt', 'created_at', 'time'],
  ['submittedAt', 'submitted_at', 'time'],
  ['updatedAt', 'updated_at', 'time'],
];

/**
 * A trade's JSON as the API sends it. Trades store it (migration 0600's generated `api_json` column,
 * whose expression must build what `jsonObjectSql(TRADE_FIELDS)` builds; a test compares the two).
 */
export const TRADE_FIELDS: Fields = [
  ['id', 'id', 'int'],
  ['fillId', 'fill_id', 'int'],
  ['orderId', 'order_id', 'int'],
  ['strategy', 'strategy', 'text'],
  ['symbol', 'symbol', 'text'],
  ['side', 'side', 'text'],
  ['qty', 'qty', 'decimal'],
  ['price', 'price', 'decimal'],
  ['fee', 'fee', 'decimal'],
  ['realizedPnl', 'realized_pnl', 'decimal'],
  ['positionAfter', 'position_after', 'decimal'],
  ['executedAt', 'executed_at', 'time'],
];

const SIGNAL: Fields = [
  ['id', 'id', 'int'],
  ['strategy', 'strategy', 'text'],
  ['symbol', 'symbol', 'text'],
  ['timeframe', 'timeframe', 'text'],
  ['barTime', 'bar_time', 'time'],
  ['side', 'side', 'text'],
  ['price', 'price', 'float'],
  ['reason', 'reason', 'text'],
  ['exit', 'exit_rule', 'text'],
  ['order', 'order_hint', 'json'],
  ['status', 'status', 'text'],
  ['statusReason', 'status_reason', 'text'],
  ['createdAt', 'created_at', 'time'],
];

const ORDER_JSON = jsonObjectSql(ORDER);
const SIGNAL_JSON = jsonObjectSql(SIGNAL);

const FINAL = pgArray([...FINAL_ORDER_STATUSES]);

/** The conditions every trading list shares, on `timeColumn` for the range. */
function tradingConditions(sql: Sql, f: TradingListFilter, timeColumn: string) {
  const conds = [];
  if (f.strategy) conds.push(sql`strategy = ${f.strategy}`);
  if (f.symbol) conds.push(sql`symbol = ${f.symbol}`);
  if (f.side) conds.push(sql`side = ${f.side}`);
  if (f.from) conds.push(sql`${sql(timeColumn)} >= ${f.from}::timestamptz`);
  if (f.to) conds.push(sql`${sql(timeColumn)} <= ${f.to}::timestamptz`);
  return conds;
}

/** Orders newest first, keyed by (created_at, id), as JSON text. */
export function listOrdersJson(sql: Sql, f: OrderListFilter = {}): Promise<JsonPage> {
  const limit = pageSize(f.limit);
  const k = timeKeyed(sql, 'created_at', f.cursor);
  const conds = [k.before, ...tradingConditions(sql, f, 'created_at')];
  if (f.status && f.status.length > 0) {
    const exact = f.status.filter((s) => s !== 'open' && s !== 'closed');
    const alts = [];
    if (f.status.includes('open')) alts.push(sql`status <> ALL(${FINAL}::text[])`);
    if (f.status.includes('closed')) alts.push(sql`status = ANY(${FINAL}::text[])`);
    if (exact.length) alts.push(sql`status = ANY(${pgArray(exact)}::text[])`);
    conds.push(sql`(${alts.slice(1).reduce((a, b) => sql`${a} OR ${b}`, alts[0])})`);
  }
  return jsonPage(sql, {
    limit,
    cursor: timeCursor,
    rows: sql`
      SELECT *, ${k.columns}
      FROM orders WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${limit + 1}`,
    item: ORDER_JSON,
  });
}

/**
 * Trades newest first, keyed by (executed_at, id), as JSON text: the trades_*_idx indexes serve every
 * filter, and each row's JSON is stored with it (the API's hottest read).
 */
export function listTradesJson(sql: Sql, f: TradingListFilter = {}): Promise<JsonPage> {
  const limit = pageSize(f.limit);
  const k = timeKeyed(sql, 'executed_at', f.cursor);
  const conds = [k.before, ...tradingConditions(sql, f, 'executed_at')];
  return jsonPage(sql, {
    limit,
    cursor: timeCursor,
    rows: sql`
      SELECT id, api_json, ${k.columns}
      FROM trades WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${limit + 1}`,
    item: 'api_json',
  });
}

/** Signals newest first, keyed by (created_at, id), as JSON text. */
export function listSignalsJson(sql: Sql, f: SignalListFilter = {}): Promise<JsonPage> {
  const limit = pageSize(f.limit);
  const k = timeKeyed(sql, 'created_at', f.cursor);
  const conds = [k.before, ...tradingConditions(sql, f, 'created_at')];
  if (f.status) conds.push(sql`status = ${f.status}`);
  return jsonPage(sql, {
    limit,
    cursor: timeCursor,
    rows: sql`
      SELECT *, ${k.columns}
      FROM signals WHERE ${and(sql, conds)}
      ORDER BY ${k.order}
      LIMIT ${limit + 1}`,
    item: SIGNAL_JSON,
  });
}

export const listOrders = async (sql: Sql, f: OrderListFilter = {}): Promise<Page<Order>> =>
  parsePage<Order>(await listOrdersJson(sql, f));

export const listTrades = async (sql: Sql, f: TradingListFilter = {}): Promise<Page<Trade>> =>
  parsePage<Trade>(await listTradesJson(sql, f));

export const listSignals = async (sql: Sql, f: SignalListFilter = {}): Promise<Page<Signal>> =>
  parsePage<Signal>(await listSignalsJson(sql, f));
